using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Servers;

/// <summary>An upstream MCP server as the admin (or the configuration file) described it.</summary>
/// <remarks>Immutable: a change is a new definition, swapped in whole.</remarks>
public sealed record ServerDefinition
{
    /// <summary>The default time allowed to connect and complete the MCP handshake.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The default time allowed for one forwarded request.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Gets the unique name; also the server part of grants (<c>server/tool</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the transport.</summary>
    public required ServerTransport Transport { get; init; }

    /// <summary>Gets the executable to start (stdio only).</summary>
    public string? Command { get; init; }

    /// <summary>Gets the arguments of <see cref="Command"/> (stdio only).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Gets the environment of the child process (stdio only). The gateway's own environment is not inherited. Secret-looking values (<see cref="SecretNames"/>) are stored encrypted.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = EmptyMap;

    /// <summary>Gets the working directory of the child process (stdio only).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Gets the endpoint (http and sse only).</summary>
    public string? Url { get; init; }

    /// <summary>Gets extra headers sent to the upstream (http and sse only). Secret-looking values (<see cref="SecretNames"/>) are stored encrypted.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = EmptyMap;

    /// <summary>
    /// Gets the names of headers of the agent's request passed on to the upstream with the requests of its call (http and
    /// sse only): an allow-list, empty by default; see <see cref="ForwardedHeaders"/> for the names never forwarded.
    /// </summary>
    public IReadOnlyList<string> ForwardHeaders { get; init; } = [];

    /// <summary>Gets the secret the upstream requires, injected into every request (or the child's environment); never passed on from agents.</summary>
    public UpstreamCredential? Credential { get; init; }

    /// <summary>Gets whose credential calls carry upstream: the server's (the default), the user's exchanged token, or the user's own account.</summary>
    public CredentialMode CredentialMode { get; init; } = CredentialMode.Shared;

    /// <summary>Gets whether a user's request goes with the user's own upstream token (token exchange, per-user accounts), never the server's credential.</summary>
    public bool ActsForUsers => CredentialMode != CredentialMode.Shared;

    /// <summary>Gets the <c>audience</c> asked for in a token exchange (<see cref="CredentialMode.TokenExchange"/>): the upstream's name at the identity provider.</summary>
    public string? ExchangeAudience { get; init; }

    /// <summary>Gets the <c>resource</c> (RFC 8707) asked for in a token exchange: the upstream's URL as the identity provider knows it.</summary>
    public string? ExchangeResource { get; init; }

    /// <summary>
    /// Gets a value indicating whether the stored secret <see cref="Env"/> / <see cref="Headers"/> values could not be
    /// decrypted (key ring lost or replaced): they are then missing from the maps, and the server refuses to connect
    /// without them rather than call its upstream unauthenticated.
    /// </summary>
    public bool SecretValuesUnreadable { get; init; }

    /// <summary>Gets the prefix of exposed tool and prompt names; <see langword="null"/> means <c>{Name}__</c>, empty exposes original names.</summary>
    public string? ToolPrefix { get; init; }

    /// <summary>Gets a value indicating whether the gateway connects to this server.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Gets a value indicating whether the configuration file owns this server (the API may not change it).</summary>
    public bool ManagedByConfiguration { get; init; }

    /// <summary>Gets the connect (handshake) timeout.</summary>
    public TimeSpan ConnectTimeout { get; init; } = DefaultConnectTimeout;

    /// <summary>Gets the per-request timeout for forwarded calls.</summary>
    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    /// <summary>Gets the most bytes one message of this server may have (a tool result, a resource); <see langword="null"/> uses <c>Gateway:Mcp:MaxResultBytes</c>.</summary>
    public long? MaxResultBytes { get; init; }

    /// <summary>Gets the result guard settings: secrets and hidden characters in results, and the server's labels.</summary>
    public ServerGuardSettings Guard { get; init; } = ServerGuardSettings.Default;

    /// <summary>Gets the prefix actually applied to exposed names.</summary>
    public string EffectivePrefix => ToolPrefix ?? Name + "__";

    /// <summary>Compares two definitions by value, collections included (records compare collections by reference).</summary>
    public bool SameAs(ServerDefinition other) =>
        this with { Args = [], Env = EmptyMap, Headers = EmptyMap, ForwardHeaders = [], Credential = null, Guard = ServerGuardSettings.Default }
            == other with { Args = [], Env = EmptyMap, Headers = EmptyMap, ForwardHeaders = [], Credential = null, Guard = ServerGuardSettings.Default }
        && UpstreamCredential.Same(Credential, other.Credential)
        && Guard.SameAs(other.Guard)
        && Args.SequenceEqual(other.Args)
        && ForwardHeaders.SequenceEqual(other.ForwardHeaders)
        && SameMap(Env, other.Env)
        && SameMap(Headers, other.Headers);

    private static bool SameMap(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static readonly IReadOnlyDictionary<string, string> EmptyMap = new Dictionary<string, string>();
}
