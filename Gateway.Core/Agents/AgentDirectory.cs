using System.Collections.Frozen;

namespace Gateway.Core.Agents;

/// <summary>
/// An immutable snapshot of the agents that may authenticate now, keyed by the SHA-256 of their keys.
/// </summary>
/// <remarks>
/// Authenticating an MCP request is a hash and a dictionary lookup, with no database round trip. The snapshot is
/// rebuilt and swapped whole whenever agents, keys or grants change, so a revoked key stops working at the next request.
/// </remarks>
public sealed class AgentDirectory
{
    private readonly FrozenDictionary<string, AgentIdentity> _byKeyHash;
    private readonly FrozenDictionary<long, AgentIdentity> _byId;
    private readonly FrozenDictionary<string, AgentIdentity> _byName;

    /// <summary>Initializes a new instance of the <see cref="AgentDirectory"/> class.</summary>
    /// <param name="agents">The enabled agents with their active (not revoked) key hashes.</param>
    public AgentDirectory(IEnumerable<(AgentIdentity Agent, IEnumerable<string> KeyHashes)> agents)
    {
        var map = new Dictionary<string, AgentIdentity>(StringComparer.Ordinal);
        var byId = new Dictionary<long, AgentIdentity>();
        foreach (var (agent, hashes) in agents)
        {
            byId[agent.Id] = agent;
            foreach (var hash in hashes)
            {
                map[hash] = agent;
            }
        }

        _byKeyHash = map.ToFrozenDictionary(StringComparer.Ordinal);
        _byId = byId.ToFrozenDictionary();
        _byName = byId.Values.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
    }

    /// <summary>Gets an empty directory: nobody authenticates.</summary>
    public static AgentDirectory Empty { get; } = new([]);

    /// <summary>Gets the number of active keys.</summary>
    public int KeyCount => _byKeyHash.Count;

    /// <summary>Finds an enabled agent by id, with its current grants.</summary>
    public AgentIdentity? FindById(long id) => _byId.GetValueOrDefault(id);

    /// <summary>
    /// The agent <paramref name="caller"/> acts as, as it is now (its grants narrowed as the caller's were, by an OAuth
    /// user's groups and scopes): what a session, a listen stream or a bridge opened by the caller may see and hear
    /// after the agent changed. <see langword="null"/> when the agent is gone or disabled.
    /// </summary>
    public AgentIdentity? AsNow(AgentIdentity caller) =>
        FindById(caller.Id) is { } profile ? profile with { Grants = caller.Under(profile.Grants) } : null;

    /// <summary>Finds an enabled agent by name (an OAuth client acts as the agent named after it).</summary>
    public AgentIdentity? FindByName(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Finds the agent holding <paramref name="presentedKey"/>.</summary>
    public AgentIdentity? Authenticate(string presentedKey) => Authenticate(presentedKey, out _);

    /// <summary>Finds the agent holding <paramref name="presentedKey"/>, giving the key's hash to recheck it later.</summary>
    public AgentIdentity? Authenticate(string presentedKey, out string? keyHash)
    {
        keyHash = null;
        // A key in our format with a bad checksum is a typo or a guess: refuse it without hashing.
        if (presentedKey.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) && !ApiKeys.HasValidChecksum(presentedKey))
        {
            return null;
        }

        // The lookup is on the SHA-256 of the presented key, not on the key: whatever its timing reveals is about a
        // digest the attacker already knows, which is why no constant-time comparison of secrets is needed here.
        keyHash = ApiKeys.Hash(presentedKey);
        return _byKeyHash.TryGetValue(keyHash, out var agent) ? agent : null;
    }

    /// <summary>Returns whether the key with this hash may still authenticate (not revoked, agent enabled).</summary>
    public bool IsActive(string keyHash) => _byKeyHash.ContainsKey(keyHash);

    /// <summary>
    /// Returns whether a session opened with <paramref name="credential"/> may go on: a key's hash while the key is active,
    /// an OAuth caller (<see cref="OAuthCredentialPrefix"/>) while its agent is enabled (its token is checked on every request).
    /// </summary>
    public bool IsActive(long agentId, string credential) =>
        credential.StartsWith(OAuthCredentialPrefix, StringComparison.Ordinal) ? _byId.ContainsKey(agentId) : _byKeyHash.ContainsKey(credential);

    /// <summary>The prefix of the credential of an OAuth caller's session, which is no key hash.</summary>
    public const string OAuthCredentialPrefix = "oauth:";
}
