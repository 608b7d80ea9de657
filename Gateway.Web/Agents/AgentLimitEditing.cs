using Gateway.Core.Agents;
using Gateway.Core.Limits;

namespace Gateway.Web.Agents;

/// <summary>
/// The one way an agent's limits change, for the admin API and the console alike: validate, store (audited as an
/// admin change by the store's decorator), and swap the agent snapshot at once so the next call sees the new limits.
/// </summary>
internal sealed class AgentLimitEditing(IAgentStore store, AgentDirectoryProvider directory)
{
    /// <summary>The problems by field (<c>limits.requestsPerMinute</c>, …), empty when valid.</summary>
    public static Dictionary<string, string[]> Validate(AgentLimits limits) =>
        new AgentLimitsValidator().Validate(limits).Errors
            .GroupBy(e => e.PropertyName)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray());

    /// <summary>Replaces the agent's limits; the errors by field when one is invalid (then nothing changes), or not found.</summary>
    public async Task<(AgentRecord? Updated, Dictionary<string, string[]> Errors)> SetAsync(string name, AgentLimits limits, CancellationToken cancellationToken)
    {
        var errors = Validate(limits);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var updated = await store.SetLimitsAsync(name, limits.IsInherited ? AgentLimits.Inherit : limits, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return (updated, errors);
    }
}
