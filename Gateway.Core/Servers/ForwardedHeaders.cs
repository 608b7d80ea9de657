namespace Gateway.Core.Servers;

/// <summary>
/// The rules for the agent headers a server receives (<see cref="ServerDefinition.ForwardHeaders"/>): an allow-list the
/// admin names per server, never a header that carries a credential, that the protocol or HTTP itself owns, or that an
/// upstream might trust as the gateway's word about the client (its address, its forwarding chain).
/// </summary>
public static class ForwardedHeaders
{
    /// <summary>The most header names a server may forward.</summary>
    public const int MaxNames = 16;

    /// <summary>The longest header name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// The most characters of one forwarded header (its values joined by <c>", "</c>): a tenant, a request id or a
    /// locale is short, and the upstream request's headers stay bounded whatever the agent sends.
    /// </summary>
    public const int MaxValueLength = 4096;

    /// <summary>Exact names never forwarded (case-insensitive).</summary>
    private static readonly HashSet<string> Refused = new(StringComparer.OrdinalIgnoreCase)
    {
        // Credentials: the agent's own never reach an upstream (no token passthrough; a DPoP proof is bound to its token),
        // the gateway sends the server's.
        "Authorization", "Proxy-Authorization", "Cookie", "Cookie2", "Set-Cookie", "DPoP", UpstreamCredentialHeader,

        // HTTP's own: framing, connection management and content negotiation are the gateway's request's.
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Upgrade", "TE", "Trailer", "Transfer-Encoding", "Expect",
        "Accept", "Accept-Encoding", "Content-Length", "Content-Type", "Content-Encoding", "Range",

        // The client's address and origin as an upstream might trust them.
        "Origin", "Forwarded", "Via", "X-Real-IP",

        // The gateway's own trace context (the agent's is the parent of the gateway's span, not sent past it).
        "traceparent", "tracestate",

        // The protocol's: the session and revision are the gateway's upstream session's.
        "Last-Event-ID",
    };

    /// <summary>Name prefixes never forwarded: the protocol's headers, the forwarding chain and the proxy's.</summary>
    private static readonly string[] RefusedPrefixes = ["Mcp-", "X-Forwarded-", "Proxy-", "Sec-"];

    /// <summary>The header an <c>apiKey</c> credential uses by default, refused even where the credential names another.</summary>
    private const string UpstreamCredentialHeader = Credentials.UpstreamCredential.DefaultApiKeyHeader;

    /// <summary>Whether <paramref name="name"/> is an HTTP token (RFC 9110 field name).</summary>
    public static bool IsToken(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => c < 128 && (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)));

    /// <summary>Whether <paramref name="name"/> may never be forwarded, whatever a server's list says.</summary>
    public static bool IsRefused(string name) =>
        Refused.Contains(name) || RefusedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>The rule, as a validation message says it.</summary>
    public const string RefusedRule =
        "is never forwarded: credentials (Authorization, Cookie, X-Api-Key), HTTP's own headers, Origin and the forwarding chain (Forwarded, X-Forwarded-*, Via), trace context and the protocol's Mcp-* headers stay the gateway's.";
}
