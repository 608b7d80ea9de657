using Gateway.Core;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Web.Validation;

namespace Gateway.Web.Admin.Agents;

/// <summary>
/// Every rule an agent's fields must meet, for the API and the console alike (the union of what each used to check:
/// the console's tag rule and the API's owner and limit rules). Field names are the API's JSON names.
/// </summary>
internal static class AgentValidation
{
    /// <summary>The longest owner: a console user name.</summary>
    public const int MaxOwnerLength = 256;

    /// <summary>The problems by field; empty when valid. <paramref name="name"/> is checked only when creating.</summary>
    public static Dictionary<string, string[]> Validate(string? name, bool creating, IReadOnlyList<string>? grants, IReadOnlyList<string>? tags, string? owner, AgentLimits? limits, string? discovery = null)
    {
        var errors = new AgentDefinitionValidator(requireName: creating).Validate((name, grants)).ByField();
        var badTags = (tags ?? []).Where(t => !Names.IsValid(t)).Select(t => $"'{t}': {Names.Rule}").ToArray();
        if (badTags.Length > 0)
        {
            errors["tags"] = badTags;
        }

        if (Gateway.Core.VirtualServers.ToolDiscoveries.Parse(discovery) is null)
        {
            errors["discovery"] = [Gateway.Core.VirtualServers.ToolDiscoveries.Rule];
        }

        if (owner is { Length: > MaxOwnerLength })
        {
            errors["owner"] = [$"Owner is a console user name of at most {MaxOwnerLength} characters."];
        }

        // Keyed by the full path (limits.requestsPerMinute): the console shows each under its own field.
        foreach (var group in new AgentLimitsValidator().Validate(limits ?? AgentLimits.Inherit).Errors.GroupBy(e => e.PropertyName))
        {
            errors[group.Key] = [.. group.Select(e => e.ErrorMessage)];
        }

        return errors;
    }
}
