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

    /// <summary>
    /// Gets how the agent discovers its tools on <c>/mcp</c>: every granted tool in <c>tools/list</c>, or search
    /// (<c>search_tools</c> and <c>call_tool</c>) so its context holds a few definitions instead of hundreds.
    /// </summary>
    public VirtualServers.ToolDiscovery Discovery { get; init; }

    /// <summary>Gets the user the agent acts for (an OAuth caller), or <see langword="null"/> for an agent with its own key.</summary>
    public string? User { get; init; }

    /// <summary>
    /// Gets what the user's groups and the client's scopes allow, to which an OAuth caller's <see cref="Grants"/> were
    /// narrowed (<see langword="null"/> when they were not): with it, what the caller may use now is the agent profile's
    /// grants as they are now, narrowed the same way (<see cref="Under"/>).
    /// </summary>
    public GrantSet? UserLimit { get; init; }

    /// <summary>Gets the groups or roles of <see cref="User"/>, which policy rules can match as <c>@user.groups</c>.</summary>
    public IReadOnlyList<string> UserGroups { get; init; } = [];

    /// <summary>Narrows <paramref name="profileGrants"/> (the agent's as they are now) as this caller's were.</summary>
    public GrantSet Under(GrantSet profileGrants) => UserLimit is null ? profileGrants : profileGrants.Within(UserLimit);

    /// <summary>Gets who acted, as the audit and approvals show it: the agent, and the user it acted for.</summary>
    public string ActorName => User is null ? Name : Name + ForUser + User;

    /// <summary>What joins the agent and the user in <see cref="ActorName"/>.</summary>
    public const string ForUser = " for ";
}
