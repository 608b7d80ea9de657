namespace Gateway.Web.Credentials.Users;

/// <summary>
/// <c>Gateway:TokenExchange</c>: how the gateway exchanges a user's access token (RFC 8693) for servers whose
/// credential mode is <c>tokenExchange</c>. The gateway authenticates at the identity provider as its own client.
/// </summary>
public sealed class TokenExchangeSettings
{
    public const string Section = "Gateway:TokenExchange";

    /// <summary>The access token type of RFC 8693 (the subject token is the agent's access token).</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    /// <summary>
    /// Gets or sets the identity provider's token endpoint. Unset: the <c>token_endpoint</c> of the issuer agents' tokens
    /// come from (<c>Gateway:AgentOAuth:Issuer</c>), read from its metadata once.
    /// </summary>
    public string? TokenEndpoint { get; set; }

    /// <summary>Gets or sets the gateway's client id at the identity provider (allowed to exchange tokens there).</summary>
    public string? ClientId { get; set; }

    /// <summary>Gets or sets the gateway's client secret (sent as HTTP Basic); none for a client the provider trusts otherwise.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Gets or sets the scope asked for with every exchange (space separated); unset asks for none.</summary>
    public string? Scope { get; set; }

    /// <summary>Gets or sets how many exchanged tokens are cached (one per user and server). The default is 10,000.</summary>
    public int MaxCachedTokens { get; set; } = 10_000;

    /// <summary>Gets or sets how long an exchange may take. The default is 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long before its expiry an exchanged token is replaced (at most half its lifetime). The default is 30 seconds.</summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem of the settings, for the start-up check.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxCachedTokens is < 1 or > 1_000_000)
        {
            yield return "Gateway:TokenExchange:MaxCachedTokens must be between 1 and 1000000.";
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(2))
        {
            yield return "Gateway:TokenExchange:Timeout must be between 0 (exclusive) and 2 minutes.";
        }

        if (RefreshBefore < TimeSpan.Zero || RefreshBefore > TimeSpan.FromHours(1))
        {
            yield return "Gateway:TokenExchange:RefreshBefore must be between 0 and 1 hour.";
        }

        if (TokenEndpoint is not null && !Uri.TryCreate(TokenEndpoint, UriKind.Absolute, out _))
        {
            yield return "Gateway:TokenExchange:TokenEndpoint must be an absolute URL.";
        }
    }
}
