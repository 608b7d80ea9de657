using Gateway.Core.Grants;
using Gateway.Core.Limits;

namespace Gateway.Core.Agents;

/// <summary>An authenticated agent, as the hot path sees it: immutable, resolved from an in-memory snapshot.</summary>
public sealed record AgentIdentity(long Id, string Name, GrantSet Grants)
{
    /// <summary>Gets the agent's tags (groups), which policy rules can match as <c>tag:name</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets the agent's own limits (rate, concurrency, daily quota); unset values take the gateway defaults.</summary>
    public AgentLimits Limits { get; init; } = AgentLimits.Inherit;
}
