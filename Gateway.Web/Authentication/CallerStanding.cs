using Gateway.Core.Agents;
using Gateway.Core.Pipeline;
using Gateway.Web.Agents;
using Gateway.Web.Credentials.Users;

namespace Gateway.Web.Authentication;

/// <summary>
/// The caller's standing after an approval wait, from the snapshots every request is authenticated against (no
/// database read): the key (or, for an OAuth caller, the agent) still active, and the user it acts for not revoked.
/// </summary>
internal sealed class CallerStanding(AgentDirectoryProvider agents, UserRevocations revocations) : ICallerStanding
{
    public string? RefusalFor(AgentIdentity agent, string? credential)
    {
        if (credential is not null && !agents.Current.IsActive(agent.Id, credential))
        {
            return $"The call was approved, but not made: agent '{agent.Name}' was disabled, or the key it called with revoked, while the call waited.";
        }

        return agent.User is { } user && revocations.Find(user) is { } revoked
            ? "The call was approved, but not made: " + revoked.Refusal
            : null;
    }
}
