using Gateway.Web.Authentication.OAuth.Server;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// <c>Gateway:AgentOAuth</c>: agents may present OAuth access tokens (JWTs) on <c>/mcp</c> besides API keys. Off until
/// <see cref="Issuer"/> is set or the gateway's own <see cref="AuthorizationServer"/> is on; then the 401 names the
/// protected-resource metadata (RFC 9728) and tokens issued by that issuer for the gateway's resource URL (RFC 8707
/// audience) are accepted.
/// </summary>
public sealed class AgentOAuthSettings
{
    public const string Section = "Gateway:AgentOAuth";

    /// <summary>The longest bearer token accepted; real access tokens are a few KiB, and each one is parsed.</summary>
    public const int MaxTokenLength = 16 * 1024;

    /// <summary>
    /// Gets or sets the issuer whose access tokens are accepted (its <c>iss</c> exactly), e.g. the enterprise IdP.
    /// Its signing keys come from <c>{Issuer}/.well-known/openid-configuration</c>. OAuth is on when this is set. Leave
    /// it unset when the gateway's own <see cref="AuthorizationServer"/> issues the tokens.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// Gets or sets the gateway's resource URL, the audience tokens must carry (e.g. <c>https://gateway.example.com/mcp</c>).
    /// Unset: the first address the gateway listens on, plus <c>/mcp</c> (set it behind a proxy or a public name).
    /// </summary>
    public string? Resource { get; set; }

    /// <summary>
    /// Gets or sets further audiences a token may carry instead of <see cref="Resource"/>: what an identity provider
    /// that does not implement resource indicators puts in <c>aud</c> for this gateway (Microsoft Entra ID: the
    /// application ID URI <c>api://...</c>, or the application's client id in v2 tokens). Each names this gateway at
    /// that provider and nothing else; at most <see cref="MaxAudiences"/>, each at most 2,048 characters.
    /// </summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>The most entries of <see cref="Audiences"/>.</summary>
    public const int MaxAudiences = 8;

    /// <summary>
    /// Gets or sets the agent profile (its grants, limits, tags) an OAuth caller acts as when no agent is named after
    /// the token's client id. Unset: a client without an agent of its own name is refused.
    /// </summary>
    public string? DefaultAgent { get; set; }

    /// <summary>
    /// Gets or sets, per group (a value of <see cref="GroupsClaim"/>), the grants its members' calls may use, e.g.
    /// <c>"engineering": ["github/*", "files/read_*"]</c>. When set, an OAuth call gets its agent's grants narrowed to the
    /// union of its user's groups' grants (a user in no listed group gets none). Unset: the agent's grants.
    /// </summary>
    public Dictionary<string, List<string>> GroupGrants { get; set; } = [];

    /// <summary>
    /// Gets or sets, per OAuth scope, the grants a token with that scope may use. When set, an OAuth call is narrowed
    /// further to the union of its token's scopes' grants. Unset: scopes do not narrow.
    /// </summary>
    public Dictionary<string, List<string>> ScopeGrants { get; set; } = [];

    /// <summary>Gets or sets the scopes named in the resource metadata (<c>scopes_supported</c>).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>Gets or sets the claim naming the user. The default is <c>sub</c>.</summary>
    public string UserClaim { get; set; } = "sub";

    /// <summary>Gets or sets the claim carrying the user's groups or roles. The default is <c>groups</c>.</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>Gets or sets the tolerance on <c>exp</c> and <c>nbf</c> for clocks that differ. The default is 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets a value indicating whether DPoP proofs must carry a nonce this instance issued (RFC 9449 §9): a proof
    /// replayed to another instance is then refused. Clients get the nonce in a <c>DPoP-Nonce</c> header with a 401
    /// <c>use_dpop_nonce</c> (their first request, and the first on another instance) and on answers once theirs is
    /// getting old. Off by default (one round trip more per instance a client reaches); turn it on where several
    /// instances serve the same agents behind a balancer that keeps a client on one instance (per-request round robin
    /// would have clients ask for a nonce on most requests).
    /// </summary>
    public bool DPoPNonce { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether each DPoP proof is also taken once in the shared database, so a proof
    /// replayed to another instance is refused whatever the balancer does (one database write per DPoP request). Off by
    /// default: each instance remembers the proofs it saw, which is complete for one instance.
    /// </summary>
    public bool DPoPSharedReplay { get; set; }

    /// <summary>Gets or sets a value indicating whether the issuer's metadata must be HTTPS. Turn off only for a loopback test IdP.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// Gets or sets the gateway's client id at <see cref="Issuer"/>, the audience of the OpenID Connect back-channel
    /// logout tokens it sends to <c>/oauth/backchannel-logout</c> (each revokes its <c>sub</c>). Unset:
    /// <c>Gateway:TokenExchange:ClientId</c>; neither set: the issuer's logout tokens are not accepted.
    /// </summary>
    public string? LogoutClientId { get; set; }

    /// <summary>Gets or sets the gateway's own authorization server (in place of an external <see cref="Issuer"/>).</summary>
    public AuthorizationServerSettings AuthorizationServer { get; set; } = new();

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Issuer) || AuthorizationServer.Enabled;
}
