using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Validates agents' OAuth access tokens as the MCP authorization spec requires of a resource server: a JWT signed
/// (asymmetric algorithms only) by a key the issuer publishes, from the configured issuer, for this gateway's resource
/// URL (RFC 8707 audience, or an audience the operator configured), within its lifetime; it reports the key the token
/// is bound to (<see cref="TokenBinding"/>), whose proof the caller checks. The issuer's keys are cached (no I/O per call); an unknown key id asks
/// for a refresh, which the configuration manager rate-limits, so random key ids cannot make the gateway fetch in a loop.
/// </summary>
internal sealed partial class AccessTokenValidator : IDisposable
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly AgentOAuthSettings _settings;
    private readonly ProtectedResource _resource;
    private readonly string[] _audiences;
    private readonly OAuthIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly ILogger<AccessTokenValidator> _logger;
    private readonly HttpClient _http;
    private readonly IConfigurationManager<OpenIdConnectConfiguration> _configuration;

    public AccessTokenValidator(AgentOAuthSettings settings, ProtectedResource resource, OAuthIssuer issuer, TimeProvider time, ILogger<AccessTokenValidator> logger)
        : this(settings, resource, issuer, time, logger, null)
    {
    }

    /// <param name="configuration">The issuer's keys from elsewhere (the gateway's own authorization server); <see langword="null"/> to fetch its metadata.</param>
    public AccessTokenValidator(AgentOAuthSettings settings, ProtectedResource resource, OAuthIssuer issuer, TimeProvider time, ILogger<AccessTokenValidator> logger, IConfigurationManager<OpenIdConnectConfiguration>? configuration)
    {
        _settings = settings;
        _resource = resource;
        _audiences = [resource.Resource, .. settings.Audiences];
        _issuer = issuer;
        _time = time;
        _logger = logger;

        // The issuer is the operator's choice, yet its answers are still bounded: no redirects, 1 MiB, 10 seconds.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10), MaxResponseContentBufferSize = 1024 * 1024 };
        _configuration = configuration ?? new ConfigurationManager<OpenIdConnectConfiguration>(
            settings.Issuer!.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(_http) { RequireHttps = settings.RequireHttpsMetadata });
    }

    /// <summary>Validates <paramref name="token"/>; the result carries the token's claims or why it was refused.</summary>
    public async Task<AccessTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (SignedJwt.Read(_handler, token, AgentOAuthSettings.MaxTokenLength, "token", "Encrypted tokens are not accepted; the issuer must sign access tokens for this resource without encrypting them.", out var refusal) is not { } jwt)
        {
            return AccessTokenCheck.Refused(refusal!);
        }

        var result = await IssuerKeys.ValidateAsync(_handler, jwt, _configuration, Parameters, reason => LogMetadataUnavailable(_logger, _issuer.Url, reason), cancellationToken);
        if (result is null)
        {
            return AccessTokenCheck.Refused("The issuer's signing keys could not be fetched; try again later.");
        }

        if (!result.IsValid)
        {
            return AccessTokenCheck.Refused(Describe(result.Exception));
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo == DateTime.MinValue)
        {
            return AccessTokenCheck.Refused("The token has no expiry (exp).");
        }

        if (jwt.ValidTo + _settings.ClockSkew <= now)
        {
            return AccessTokenCheck.Refused("The token expired.");
        }

        if (jwt.ValidFrom != DateTime.MinValue && jwt.ValidFrom - _settings.ClockSkew > now)
        {
            return AccessTokenCheck.Refused("The token is not valid yet (nbf).");
        }

        return AccessTokenCheck.Valid(result.ClaimsIdentity, jwt.ValidTo, Binding(jwt));
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The key the token is bound to (RFC 7800 <c>cnf</c>): a DPoP key's thumbprint, another kind of key, or none.</summary>
    private static TokenBinding Binding(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<System.Text.Json.JsonElement>("cnf", out var confirmation))
        {
            return TokenBinding.None;
        }

        return confirmation.ValueKind == System.Text.Json.JsonValueKind.Object
            && confirmation.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == System.Text.Json.JsonValueKind.String && jkt.GetString() is { Length: > 0 } thumbprint
            ? new TokenBinding(TokenBindingKind.DPoP, thumbprint)
            : TokenBinding.OtherKey;
    }

    private TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration) => new()
    {
        // The issuer as configured, with or without a trailing slash (issuers differ: Entra has none, OpenIddict has one).
        ValidIssuers = [_issuer.Url.TrimEnd('/'), _issuer.Url.TrimEnd('/') + "/"],
        // The resource URL (RFC 8707), or what the operator says the issuer names this gateway (Entra: its app ID URI).
        ValidAudiences = _audiences,
        IssuerSigningKeys = configuration.SigningKeys,
        ValidAlgorithms = JwtAlgorithms.Asymmetric,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,

        // Checked above with the gateway's TimeProvider and the configured skew.
        ValidateLifetime = false,
        RequireExpirationTime = true,
    };

    private string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidAudienceException => "The token's audience is not this gateway's resource URL" + (_settings.Audiences.Count > 0 ? " or one of its configured audiences." : "."),
        SecurityTokenInvalidIssuerException => "The token was issued by an issuer this gateway does not trust.",
        SecurityTokenSignatureKeyNotFoundException => "The token is signed with a key the issuer does not publish.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
        _ => "The token is invalid.",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The signing keys of the agents' OAuth issuer {Issuer} could not be fetched: {Reason}")]
    private static partial void LogMetadataUnavailable(ILogger logger, string issuer, string reason);
}

/// <summary>The outcome of <see cref="AccessTokenValidator.ValidateAsync"/>.</summary>
internal sealed record AccessTokenCheck(ClaimsIdentity? Claims, DateTime ExpiresAt, string? Refusal, TokenBinding? Binding = null)
{
    public static AccessTokenCheck Valid(ClaimsIdentity claims, DateTime expiresAt, TokenBinding binding) => new(claims, expiresAt, null, binding);

    public static AccessTokenCheck Refused(string reason) => new(null, default, reason);
}

/// <summary>
/// The key a token is bound to (RFC 7800 <c>cnf</c>), whose proof must come with it: none (a bearer token), a DPoP key
/// (<see cref="Jkt"/>, its RFC 7638 thumbprint), or another kind of key (mutual TLS, RFC 8705), which the gateway cannot check.
/// </summary>
internal sealed record TokenBinding(TokenBindingKind Kind, string? Jkt = null)
{
    public static readonly TokenBinding None = new(TokenBindingKind.None);

    public static readonly TokenBinding OtherKey = new(TokenBindingKind.OtherKey);
}

/// <summary>What a token is bound to.</summary>
internal enum TokenBindingKind
{
    /// <summary>Nothing: a bearer token.</summary>
    None,

    /// <summary>A DPoP key (RFC 9449).</summary>
    DPoP,

    /// <summary>A key of another kind (a TLS client certificate, RFC 8705, or an unknown confirmation method).</summary>
    OtherKey,
}
