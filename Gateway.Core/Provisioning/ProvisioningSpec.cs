using Gateway.Core.Servers;

namespace Gateway.Core.Provisioning;

/// <summary>The desired state declared in configuration; applying it twice gives the same database.</summary>
public sealed record ProvisioningSpec(IReadOnlyList<ServerDefinition> Servers, IReadOnlyList<ProvisionedAgent> Agents)
{
    /// <summary>Gets the policy rules declared in configuration.</summary>
    public IReadOnlyList<Policy.PolicyRule> Policies { get; init; } = [];
}

/// <summary>An agent declared in configuration.</summary>
/// <param name="Name">The agent's name.</param>
/// <param name="ApiKeyHash">The SHA-256 of the configured key, or <see langword="null"/> when none is configured.</param>
/// <param name="Grants">The grant patterns.</param>
public sealed record ProvisionedAgent(string Name, string? ApiKeyHash, IReadOnlyList<string> Grants)
{
    /// <summary>Gets the agent's tags (groups).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets the agent's limits (<c>Gateway:Agents:name:Limits:*</c>); unset values take the gateway defaults.</summary>
    public Limits.AgentLimits Limits { get; init; } = Gateway.Core.Limits.AgentLimits.Inherit;

    /// <summary>Gets how the agent discovers its tools on <c>/mcp</c> (<c>Gateway:Agents:name:Discovery</c>, <c>list</c> or <c>search</c>).</summary>
    public VirtualServers.ToolDiscovery Discovery { get; init; }
}

/// <summary>Applies a <see cref="ProvisioningSpec"/> to the database in one transaction, with an audit entry per change in that transaction.</summary>
public interface IProvisioningStore
{
    /// <summary>Reconciles: upserts what the spec declares and removes what configuration declared before but no longer does.</summary>
    Task<ProvisioningReport> ApplyAsync(ProvisioningSpec spec, CancellationToken cancellationToken);
}

/// <summary>What a provisioning run changed.</summary>
public sealed record ProvisioningReport(int ServersAdded, int ServersUpdated, int ServersRemoved, int AgentsAdded, int AgentsUpdated, int AgentsRemoved)
{
    /// <summary>Gets how many admin-change audit entries the run wrote (one per change, policy rules included).</summary>
    public int AuditEntries { get; init; }

    /// <summary>Gets a value indicating whether anything changed.</summary>
    public bool Changed => ServersAdded + ServersUpdated + ServersRemoved + AgentsAdded + AgentsUpdated + AgentsRemoved > 0;
}
