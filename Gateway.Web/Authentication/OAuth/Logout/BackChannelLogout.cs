using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;
using Gateway.Core.Sessions;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth.Logout;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 (section 2.6): a logout token from a configured identity provider revokes its
/// user (<see cref="RevocationReason.IdentityProviderLogout"/>): their agents are refused on every instance and their
/// upstream tokens dropped, audited under the issuer. The token is checked as the specification asks: signed
/// (asymmetric, a key of the issuer's JWKS), <c>iss</c>, <c>aud</c> = the gateway's client id there, <c>iat</c> recent,
/// <c>exp</c> not passed, the back-channel logout event, a <c>sub</c> (the gateway revokes users, not sessions: a token
/// naming only a <c>sid</c> is refused), no <c>nonce</c>, and a <c>jti</c> taken once across instances.
/// </summary>
internal sealed partial class BackChannelLogout : IDisposable
{
    /// <summary>The event a logout token must carry (section 2.4).</summary>
    public const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    /// <summary>The longest logout token read; real ones are well under 2 KiB.</summary>
    public const int MaxTokenLength = 16 * 1024;

    /// <summary>How old a logout token may be (its <c>iat</c>); its <c>jti</c> is remembered that long.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly HttpClient _http;
    private readonly IReadOnlyList<LogoutSource> _sources;
    private readonly AgentOAuthSettings _settings;
    private readonly UserRevocationChanges _revocations;
    private readonly ISingleUseLedger _ledger;
    private readonly TimeProvider _time;
    private readonly ILogger<BackChannelLogout> _logger;

    public BackChannelLogout(AgentOAuthSettings settings, TokenExchangeSettings exchange, ConsoleSignInSettings console, UserRevocationChanges revocations, ISingleUseLedger ledger, TimeProvider time, ILogger<BackChannelLogout> logger)
    {
        _settings = settings;
        _revocations = revocations;
        _ledger = ledger;
        _time = time;
        _logger = logger;

        // The issuers are the operator's choice, yet their answers are still bounded: no redirects, 1 MiB, 10 seconds.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10), MaxResponseContentBufferSize = 1024 * 1024 };
        _sources = Sources(settings, exchange, console, _http);
    }

    /// <summary>Gets a value indicating whether any identity provider may send logout tokens (the endpoint exists only then).</summary>
    public bool IsEnabled => _sources.Count > 0;

    /// <summary>Checks <paramref name="token"/> and revokes its user; yields why it was refused, or <see langword="null"/>.</summary>
    public async Task<string?> LogOutAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return "The request has no logout_token.";
        }

        if (SignedJwt.Read(_handler, token, MaxTokenLength, "logout token", "Encrypted logout tokens are not accepted.", out var unreadable) is not { } jwt)
        {
            return unreadable;
        }

        if (jwt.Typ is { Length: > 0 } typ && typ != "logout+jwt" && typ != "JWT")
        {
            // Section 2.4: explicit typing keeps other JWTs of the issuer (ID tokens, access tokens) from passing as one.
            return $"The logout token's type is '{Bounded(typ)}', not logout+jwt.";
        }

        var issuer = jwt.TryGetPayloadValue<string>("iss", out var iss) ? iss : null;
        var candidates = issuer is null ? [] : _sources.Where(s => s.Issued(issuer)).ToList();
        if (candidates.Count == 0)
        {
            return "The logout token's issuer is not an identity provider this gateway accepts logout tokens from.";
        }

        // The same provider may be both the agents' issuer and the console's: each source whose client id is the
        // token's audience names its own user.
        var sources = new List<LogoutSource>();
        string? refusal = null;
        foreach (var candidate in candidates)
        {
            var result = await ValidateAsync(jwt, candidate, cancellationToken);
            if (result.Exception is { } refused)
            {
                refusal ??= Describe(refused);
            }
            else
            {
                sources.Add(candidate);
            }
        }

        if (sources.Count == 0)
        {
            return refusal;
        }

        if (Claims(jwt) is { } problem)
        {
            return problem;
        }

        var subject = jwt.Subject;
        if (string.IsNullOrEmpty(subject))
        {
            return "The logout token names only a session (sid); the gateway signs users out by their subject (sub).";
        }

        var users = sources.Select(s => s.UserOf(subject)).Distinct(StringComparer.Ordinal).ToList();
        if (users.Any(u => u.Length > RevokedUser.MaxUserLength))
        {
            return $"The logout token's subject is longer than {RevokedUser.MaxUserLength} characters.";
        }

        // Taken once across the instances until it would be refused as too old anyway.
        var key = "bcl:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issuer + "\n" + jwt.Id)));
        if (!await _ledger.TryTakeAsync(key, jwt.IssuedAt + MaxAge + _settings.ClockSkew, cancellationToken))
        {
            return "The logout token was used already (its jti).";
        }

        var by = Bounded(sources[0].Issuer);
        using (AuditActor.Use("identity-provider:" + by))
        {
            foreach (var user in users)
            {
                await _revocations.RevokeAsync(user, RevocationReason.IdentityProviderLogout, by, cancellationToken);
                LogLoggedOut(_logger, user, by, (_time.GetUtcNow() - jwt.IssuedAt).TotalMilliseconds);
            }
        }

        return null;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Signature, issuer, audience and lifetime, with the issuer's keys read again once if the key id is unknown.</summary>
    private async Task<TokenValidationResult> ValidateAsync(JsonWebToken jwt, LogoutSource source, CancellationToken cancellationToken)
    {
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await source.Keys.GetConfigurationAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new TokenValidationResult { IsValid = false, Exception = new SecurityTokenException("The identity provider's signing keys could not be fetched; try again later.") };
        }

        var result = await _handler.ValidateTokenAsync(jwt, Parameters(source, configuration));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            source.Keys.RequestRefresh();
            result = await _handler.ValidateTokenAsync(jwt, Parameters(source, await source.Keys.GetConfigurationAsync(cancellationToken)));
        }

        return result;
    }

    private TokenValidationParameters Parameters(LogoutSource source, OpenIdConnectConfiguration configuration) => new()
    {
        ValidIssuers = [source.Issuer.TrimEnd('/'), source.Issuer.TrimEnd('/') + "/"],
        ValidAudience = source.ClientId,
        IssuerSigningKeys = configuration.SigningKeys,
        ValidAlgorithms = JwtAlgorithms.Asymmetric,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ValidateLifetime = false,
        RequireExpirationTime = false,
    };

    /// <summary>The checks of section 2.6 beyond a JWT's: lifetime with the gateway's clock, the event, jti, no nonce.</summary>
    private string? Claims(JsonWebToken jwt)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var skew = _settings.ClockSkew;
        if (!jwt.TryGetPayloadValue<long>("iat", out _))
        {
            return "The logout token has no iat.";
        }

        if (jwt.IssuedAt - skew > now)
        {
            return "The logout token was issued in the future (iat).";
        }

        if (jwt.IssuedAt + MaxAge + skew < now)
        {
            return $"The logout token was issued more than {MaxAge.TotalMinutes:0} minutes ago (iat).";
        }

        if (jwt.TryGetPayloadValue<long>("exp", out _) && jwt.ValidTo + skew <= now)
        {
            return "The logout token expired.";
        }

        if (!jwt.TryGetPayloadValue<JsonElement>("events", out var events) || events.ValueKind != JsonValueKind.Object
            || !events.TryGetProperty(LogoutEvent, out var logout) || logout.ValueKind != JsonValueKind.Object)
        {
            return $"The logout token's events claim has no {LogoutEvent} member.";
        }

        if (jwt.TryGetPayloadValue<object>("nonce", out _))
        {
            return "The logout token carries a nonce (it may be an ID token): refused.";
        }

        if (string.IsNullOrEmpty(jwt.Id) || jwt.Id.Length > 256)
        {
            return "The logout token has no jti (or one over 256 characters).";
        }

        return null;
    }

    private static string Describe(Exception exception) => exception switch
    {
        SecurityTokenInvalidAudienceException => "The logout token's audience is not the gateway's client id at the identity provider.",
        SecurityTokenInvalidIssuerException => "The logout token was issued by an issuer this gateway does not trust.",
        SecurityTokenSignatureKeyNotFoundException => "The logout token is signed with a key the identity provider does not publish.",
        SecurityTokenInvalidSignatureException => "The logout token's signature is invalid.",
        SecurityTokenInvalidAlgorithmException => "The logout token's signing algorithm is not accepted.",
        SecurityTokenException { Message: { } message } when message.StartsWith("The identity provider", StringComparison.Ordinal) => message,
        _ => "The logout token is invalid.",
    };

    /// <summary>The identity providers that may sign users out: the agents' issuer, and the console's OpenID Connect provider.</summary>
    private static List<LogoutSource> Sources(AgentOAuthSettings settings, TokenExchangeSettings exchange, ConsoleSignInSettings console, HttpClient http)
    {
        var sources = new List<LogoutSource>();
        if (settings.Issuer is { Length: > 0 } issuer && (settings.LogoutClientId ?? exchange.ClientId) is { Length: > 0 } clientId)
        {
            // Agents' tokens name the user by their subject (the user claim); sub is what a logout token carries.
            sources.Add(LogoutSource.Fetching(issuer, clientId, settings.RequireHttpsMetadata, http, subject => subject));
        }

        if (console.Oidc.IsConfigured)
        {
            // Console users of the provider are "sub@host" (OidcSignIn), and so are the users of the gateway's own authorization server.
            var authority = console.Oidc.Authority!;
            var host = Uri.TryCreate(authority, UriKind.Absolute, out var uri) ? uri.Authority : authority;
            sources.Add(LogoutSource.Fetching(authority, console.Oidc.ClientId!, console.Oidc.RequireHttpsMetadata, http, subject => $"{subject}@{host}"));
        }

        return sources;
    }

    private static string Bounded(string value) => value.Length <= 200 ? value : value[..200];

    [LoggerMessage(Level = LogLevel.Information, Message = "Back-channel logout: user {User} signed out by {Issuer} ({Milliseconds} ms after the token was issued); their agents are refused.")]
    private static partial void LogLoggedOut(ILogger logger, string user, string issuer, double milliseconds);
}
