using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Validates an Identity Assertion JWT Authorization Grant (ID-JAG) as the MCP Enterprise-Managed Authorization
/// extension requires of the resource's authorization server: <c>typ</c> <c>oauth-id-jag+jwt</c>; signed (asymmetric
/// algorithms only) by a key its issuer publishes, the issuer being one the operator trusts; <c>aud</c> this gateway's
/// issuer; <c>resource</c>, when present, this gateway's resource URL; <c>client_id</c> the client redeeming it;
/// <c>sub</c>, <c>jti</c>, <c>iat</c> and <c>exp</c> present; short-lived (at most <see cref="MaxLifetime"/>) and within
/// its lifetime by the gateway's clock. Replay is the caller's to refuse (one use per <c>jti</c>, across instances).
/// Each issuer's keys are cached like an access token issuer's: an unknown key id asks for a refresh, which the
/// configuration manager rate-limits.
/// </summary>
internal sealed partial class IdentityAssertionValidator : IDisposable
{
    /// <summary>The header <c>typ</c> of an ID-JAG.</summary>
    public const string Type = "oauth-id-jag+jwt";

    /// <summary>The longest lifetime (<c>exp</c> − <c>iat</c>) accepted: an ID-JAG is a bearer artifact, meant to be short-lived.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The longest <c>sub</c>, <c>jti</c>, <c>client_id</c>, <c>resource</c>, <c>scope</c> or name read from an assertion.</summary>
    public const int MaxClaimLength = 2048;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly Dictionary<string, IConfigurationManager<OpenIdConnectConfiguration>> _issuers = new(StringComparer.Ordinal);
    private readonly AgentOAuthSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<IdentityAssertionValidator> _logger;
    private readonly HttpClient _http;

    public IdentityAssertionValidator(AgentOAuthSettings settings, TimeProvider time, ILogger<IdentityAssertionValidator> logger)
    {
        (_settings, _time, _logger) = (settings, time, logger);

        // Operators choose the issuers, yet their answers are still bounded: no redirects, 1 MiB, 10 seconds.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10), MaxResponseContentBufferSize = 1024 * 1024 };
        foreach (var issuer in settings.AuthorizationServer.IdentityAssertionIssuers)
        {
            _issuers[issuer] = new ConfigurationManager<OpenIdConnectConfiguration>(
                issuer.TrimEnd('/') + "/.well-known/openid-configuration",
                new OpenIdConnectConfigurationRetriever(),
                new HttpDocumentRetriever(_http) { RequireHttps = settings.RequireHttpsMetadata });
        }
    }

    /// <summary>Validates <paramref name="assertion"/> for <paramref name="clientId"/>; the result says who it speaks for, or why it was refused.</summary>
    /// <param name="issuer">This gateway's issuer URL (the assertion's audience).</param>
    /// <param name="resource">This gateway's resource URL.</param>
    public async Task<IdentityAssertionCheck> ValidateAsync(string? assertion, string? clientId, string issuer, string resource, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(assertion))
        {
            return IdentityAssertionCheck.Refused("The request has no assertion.");
        }

        if (SignedJwt.Read(_handler, assertion, AgentOAuthSettings.MaxTokenLength, "assertion", "Encrypted assertions are not accepted.", out var refusal) is not { } jwt)
        {
            return IdentityAssertionCheck.Refused(refusal!);
        }

        if (!string.Equals(jwt.Typ, Type, StringComparison.OrdinalIgnoreCase))
        {
            return IdentityAssertionCheck.Refused($"The assertion is not an identity assertion grant (typ {Type}).");
        }

        var trusted = jwt.Issuer is { Length: > 0 } named
            ? _issuers.Keys.FirstOrDefault(i => string.Equals(i.TrimEnd('/'), named.TrimEnd('/'), StringComparison.Ordinal))
            : null;
        if (trusted is null)
        {
            return IdentityAssertionCheck.Refused("The assertion was issued by an identity provider this gateway does not trust.");
        }

        var result = await IssuerKeys.ValidateAsync(_handler, jwt, _issuers[trusted], c => Parameters(jwt.Issuer, issuer, c), reason => LogMetadataUnavailable(_logger, trusted, reason), cancellationToken);
        if (result is null)
        {
            return IdentityAssertionCheck.Refused("The identity provider's signing keys could not be fetched; try again later.");
        }

        if (!result.IsValid)
        {
            return IdentityAssertionCheck.Refused(Describe(result.Exception));
        }

        return Claims(jwt, clientId, resource);
    }

    public void Dispose() => _http.Dispose();

    private IdentityAssertionCheck Claims(JsonWebToken jwt, string? clientId, string resource)
    {
        // Each read, so the reason names the first claim that cannot be used.
        var missing = new[] { Required(jwt, "sub", out var subject), Required(jwt, "jti", out var id), Required(jwt, "client_id", out var assertedClient) }
            .FirstOrDefault(m => m is not null);
        if (missing is not null)
        {
            return IdentityAssertionCheck.Refused(missing);
        }

        if (!string.Equals(assertedClient, clientId, StringComparison.Ordinal))
        {
            return IdentityAssertionCheck.Refused("The assertion was issued to another client.");
        }

        if (jwt.TryGetPayloadValue<object>("resource", out _) && !(Text(jwt, "resource", out var named) && string.Equals(named.TrimEnd('/'), resource.TrimEnd('/'), StringComparison.Ordinal)))
        {
            return IdentityAssertionCheck.Refused("The assertion's resource is not this gateway's resource URL.");
        }

        if (jwt.ValidTo == DateTime.MinValue || jwt.IssuedAt == DateTime.MinValue)
        {
            return IdentityAssertionCheck.Refused("The assertion has no exp or no iat.");
        }

        if (jwt.ValidTo - jwt.IssuedAt > MaxLifetime)
        {
            return IdentityAssertionCheck.Refused($"The assertion lives longer than {MaxLifetime.TotalMinutes:0} minutes.");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo + _settings.ClockSkew <= now)
        {
            return IdentityAssertionCheck.Refused("The assertion expired.");
        }

        if (jwt.IssuedAt - _settings.ClockSkew > now || (jwt.ValidFrom != DateTime.MinValue && jwt.ValidFrom - _settings.ClockSkew > now))
        {
            return IdentityAssertionCheck.Refused("The assertion is not valid yet.");
        }

        if (jwt.TryGetPayloadValue<object>("scope", out _) && !Text(jwt, "scope", out _))
        {
            return IdentityAssertionCheck.Refused("The assertion's scope is not a string.");
        }

        Text(jwt, "scope", out var scope);
        var name = Text(jwt, "name", out var n) ? n : Text(jwt, "email", out var e) ? e : subject;
        return IdentityAssertionCheck.Valid(new IdentityAssertion(jwt.Issuer, subject, id, name, scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero)));
    }

    /// <summary>Reads a claim the grant needs; returns why it cannot be used, or <see langword="null"/>.</summary>
    private static string? Required(JsonWebToken jwt, string claim, out string value) =>
        Text(jwt, claim, out value) ? null
        : jwt.TryGetPayloadValue<string>(claim, out var text) && text.Length > MaxClaimLength ? $"The assertion's {claim} is longer than {MaxClaimLength} characters."
        : $"The assertion lacks {claim}.";

    private static bool Text(JsonWebToken jwt, string claim, out string value)
    {
        value = string.Empty;
        if (!jwt.TryGetPayloadValue<string>(claim, out var text) || text is not { Length: > 0 and <= MaxClaimLength })
        {
            return false;
        }

        value = text;
        return true;
    }

    private static TokenValidationParameters Parameters(string assertionIssuer, string issuer, OpenIdConnectConfiguration configuration) => new()
    {
        ValidIssuer = assertionIssuer,

        // This gateway's issuer, with or without its trailing slash.
        ValidAudiences = [issuer.TrimEnd('/'), issuer.TrimEnd('/') + "/"],
        IssuerSigningKeys = configuration.SigningKeys,
        ValidAlgorithms = JwtAlgorithms.Asymmetric,
        ValidTypes = [Type],
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,

        // Checked with the gateway's TimeProvider and the configured skew.
        ValidateLifetime = false,
        RequireExpirationTime = true,
    };

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidAudienceException => "The assertion's audience is not this gateway's issuer.",
        SecurityTokenSignatureKeyNotFoundException => "The assertion is signed with a key its identity provider does not publish.",
        SecurityTokenInvalidSignatureException => "The assertion's signature is invalid.",
        SecurityTokenInvalidAlgorithmException => "The assertion's signing algorithm is not accepted.",
        SecurityTokenInvalidTypeException => $"The assertion is not an identity assertion grant (typ {Type}).",
        _ => "The assertion is invalid.",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The signing keys of the enterprise identity provider {Issuer} could not be fetched: {Reason}")]
    private static partial void LogMetadataUnavailable(ILogger logger, string issuer, string reason);
}

/// <summary>What a valid identity assertion says: who (its issuer and subject), its id, a name to show, the scopes it allows (null: none named), when it expires.</summary>
internal sealed record IdentityAssertion(string Issuer, string Subject, string Id, string Name, string[]? Scopes, DateTimeOffset ExpiresAt);

/// <summary>The outcome of <see cref="IdentityAssertionValidator.ValidateAsync"/>.</summary>
internal sealed record IdentityAssertionCheck(IdentityAssertion? Assertion, string? Refusal)
{
    public static IdentityAssertionCheck Valid(IdentityAssertion assertion) => new(assertion, null);

    public static IdentityAssertionCheck Refused(string reason) => new(null, reason);
}
