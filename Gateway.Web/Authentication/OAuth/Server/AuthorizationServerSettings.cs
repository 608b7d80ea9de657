namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// <c>Gateway:AgentOAuth:AuthorizationServer</c>: the gateway's own OAuth authorization server for agents. Users sign in
/// through the console's login (local accounts or the console's OIDC IdP); clients are identified by Client ID Metadata
/// Documents from allowed hosts, or register themselves (RFC 7591) when an admin turns that on. Off by default.
/// </summary>
public sealed class AuthorizationServerSettings
{
    /// <summary>The largest client metadata document or registration request read.</summary>
    public const int MaxMetadataBytes = 64 * 1024;

    /// <summary>The most redirect URIs one client may name.</summary>
    public const int MaxRedirectUris = 10;

    /// <summary>The longest URL accepted as a client id or redirect URI.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>The longest client name kept.</summary>
    public const int MaxClientNameLength = 200;

    /// <summary>Gets or sets a value indicating whether the gateway issues the access tokens agents present on <c>/mcp</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the hosts whose Client ID Metadata Documents are fetched (exact host names, e.g. <c>vscode.dev</c>).
    /// A client id URL on any other host is refused. Empty: no CIMD client is accepted.
    /// </summary>
    public List<string> ClientMetadataHosts { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether clients may register themselves (RFC 7591). Off by default.</summary>
    public bool DynamicClientRegistration { get; set; }

    /// <summary>Gets or sets the most clients that may register themselves; registration is refused beyond it.</summary>
    public int MaxRegisteredClients { get; set; } = 1000;

    /// <summary>Gets or sets how many registration requests one address may send a minute (beyond: 429). The default is 10.</summary>
    public int RegistrationsPerMinute { get; set; } = 10;

    /// <summary>Gets or sets how many registration requests all addresses together may send a minute (beyond: 429). The default is 100.</summary>
    public int RegistrationsPerMinuteTotal { get; set; } = 100;

    /// <summary>
    /// Gets or sets how many client metadata documents one address may have fetched a minute (beyond:
    /// <c>temporarily_unavailable</c>). Only fetches count: a document is kept for its <c>Cache-Control</c> lifetime (10 s
    /// to 1 hour; 1 minute when it does not say). The default is 30.
    /// </summary>
    public int ClientMetadataFetchesPerMinute { get; set; } = 30;

    /// <summary>Gets or sets how many client metadata documents all addresses together may have fetched a minute. The default is 300.</summary>
    public int ClientMetadataFetchesPerMinuteTotal { get; set; } = 300;

    /// <summary>Gets or sets how long an access token is valid. The default is 1 hour.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets how long a refresh token is valid (each use gives a new one). The default is 14 days.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// Gets or sets the ECDSA P-256 key file (PKCS#8 PEM) that signs access tokens; codes and refresh tokens are
    /// encrypted with a key derived from it. Generated on first start (mode 600). Unset: <c>oauth-server-key.pem</c>
    /// beside the SQLite file (<c>data/</c> on PostgreSQL). Instances sharing a database must share this file.
    /// </summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>The most enterprise identity providers whose identity assertions are accepted.</summary>
    public const int MaxIdentityAssertionIssuers = 8;

    /// <summary>
    /// Gets or sets the enterprise identity providers (issuer URLs) whose Identity Assertion JWT Authorization Grants
    /// (ID-JAG, the MCP Enterprise-Managed Authorization extension) the token endpoint redeems for access tokens
    /// (<c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c>). Their keys come from OpenID Connect discovery.
    /// Empty (the default): the grant is not offered.
    /// </summary>
    public List<string> IdentityAssertionIssuers { get; set; } = [];

    /// <summary>
    /// Gets or sets a value indicating whether client metadata documents must be fetched over HTTPS (the CIMD draft
    /// requires it). Turn off only for a loopback test host.
    /// </summary>
    public bool RequireHttpsClientMetadata { get; set; } = true;
}
