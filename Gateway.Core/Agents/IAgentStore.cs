using Gateway.Core.Limits;

namespace Gateway.Core.Agents;

/// <summary>An agent as stored. Keys are known only by their hash and a display hint.</summary>
public sealed record AgentRecord(
    long Id,
    string Name,
    bool Enabled,
    bool ManagedByConfiguration,
    IReadOnlyList<string> Grants,
    IReadOnlyList<AgentKeyInfo> Keys,
    DateTimeOffset CreatedAt)
{
    /// <summary>Gets the agent's tags (groups), matched by policy rules as <c>tag:name</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets the console user responsible for the agent, if any.</summary>
    public string? Owner { get; init; }

    /// <summary>Gets the agent's own limits; unset values take the gateway defaults.</summary>
    public AgentLimits Limits { get; init; } = AgentLimits.Inherit;

    /// <summary>Gets how the agent discovers its tools on <c>/mcp</c> (a virtual server has its own setting).</summary>
    public VirtualServers.ToolDiscovery Discovery { get; init; }
}

/// <summary>A key of an agent, without its secret.</summary>
public sealed record AgentKeyInfo(long Id, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>An agent with the hashes of its usable keys, for building the <see cref="AgentDirectory"/>.</summary>
public sealed record AgentCredentials(AgentRecord Agent, IReadOnlyList<string> ActiveKeyHashes);

/// <summary>Persistence of agents, their keys and grants.</summary>
public interface IAgentStore
{
    /// <summary>Lists all agents by name.</summary>
    Task<IReadOnlyList<AgentRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>One page of agents by name, optionally those whose name contains <paramref name="search"/>, and how many match.</summary>
    Task<(IReadOnlyList<AgentRecord> Items, int Total)> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken);

    /// <summary>Finds an agent by name.</summary>
    Task<AgentRecord?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates an agent with its first key; <see langword="null"/> when the name is taken.</summary>
    Task<AgentRecord?> CreateAsync(string name, IReadOnlyList<string> grants, string keyHash, string keyHint, CancellationToken cancellationToken, string? owner = null);

    /// <summary>Changes an agent's enabled state and/or grants; <see langword="null"/> when it does not exist.</summary>
    Task<AgentRecord?> UpdateAsync(string name, bool? enabled, IReadOnlyList<string>? grants, CancellationToken cancellationToken, IReadOnlyList<string>? tags = null);

    /// <summary>Replaces an agent's limits; <see langword="null"/> when it does not exist.</summary>
    Task<AgentRecord?> SetLimitsAsync(string name, AgentLimits limits, CancellationToken cancellationToken);

    /// <summary>Sets (or with <see langword="null"/> clears) the console user responsible for an agent; <see langword="null"/> when it does not exist.</summary>
    Task<AgentRecord?> SetOwnerAsync(string name, string? owner, CancellationToken cancellationToken);

    /// <summary>Sets how the agent discovers its tools on <c>/mcp</c>; <see langword="null"/> when it does not exist.</summary>
    Task<AgentRecord?> SetDiscoveryAsync(string name, VirtualServers.ToolDiscovery discovery, CancellationToken cancellationToken);

    /// <summary>Adds a key, optionally revoking all others in the same transaction (rotation).</summary>
    Task<AgentKeyInfo?> AddKeyAsync(string name, string keyHash, string keyHint, bool revokeOthers, CancellationToken cancellationToken);

    /// <summary>Revokes one key; <see langword="false"/> when the agent or key does not exist.</summary>
    Task<bool> RevokeKeyAsync(string name, long keyId, CancellationToken cancellationToken);

    /// <summary>Deletes an agent and its keys.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Loads every enabled agent with its unrevoked key hashes.</summary>
    Task<IReadOnlyList<AgentCredentials>> LoadCredentialsAsync(CancellationToken cancellationToken);
}
