using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Core.Sessions;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>What an admin gives to authorize the gateway at an upstream's authorization server.</summary>
/// <param name="ClientId">The gateway's client id there.</param>
/// <param name="ClientSecret">Its secret; none for a public client.</param>
/// <param name="Scope">The scope to ask for; <c>offline_access</c> is added (a refresh token is the point).</param>
/// <param name="AuthorizationServer">The issuer; by default the one the upstream's protected resource metadata names.</param>
public sealed record AuthorizationStart(string ClientId, string? ClientSecret, string? Scope, string? AuthorizationServer);

/// <summary>
/// The OAuth 2.1 authorization code flow with PKCE by which an admin obtains a refresh token for an upstream: the
/// gateway builds the authorization URL (S256 challenge, single-use state, RFC 8707 resource), the admin signs in at
/// the authorization server, and the callback redeems the code and stores the refresh token as the server's credential.
/// </summary>
/// <remarks>
/// MCP authorization requirements: PKCE S256, refused when the server does not advertise it (A7); the resource on both
/// requests (A8); the issuer recorded before redirecting and the <c>iss</c> response parameter compared exactly when
/// advertised (RFC 9207, A9); state random, single-use and short-lived.
/// </remarks>
/// <remarks>
/// A user connecting their own account at a per-user server (<see cref="StartForUserAsync"/>) goes through the same
/// flow with the server's OAuth client; the callback then stores the refresh token as that user's, not the server's.
/// </remarks>
/// <remarks>
/// The flow keeps nothing in memory between the start and the callback: the <c>state</c> carries what the callback
/// needs, encrypted and authenticated with the gateway's data-protection key ring (shared by every instance), and its
/// nonce is taken once in the shared database. So the callback may reach any instance behind a balancer, or an instance
/// restarted meanwhile, and no number of started flows grows the gateway's memory.
/// </remarks>
internal sealed partial class AuthorizationCodeFlow(
    OAuthTokenClient oauth,
    Users.UserAccounts accounts,
    IDataProtectionProvider protection,
    ISingleUseLedger ledger,
    TimeProvider time,
    ILogger<AuthorizationCodeFlow> logger)
{
    /// <summary>The callback path; register <c>{gateway}/oauth/callback</c> as the redirect URI at the authorization server.</summary>
    public const string CallbackPath = "/oauth/callback";

    /// <summary>The longest <c>state</c> taken back (a sealed one is about 1 KiB).</summary>
    public const int MaxStateLength = 8 * 1024;

    private const string Unknown = "Unknown, used or expired authorization state; start the authorization again.";

    private const string StatePrefix = "gw1.";

    // The ledger's key of a state's nonce (the ledger also holds other single-use marks).
    private const string LedgerPrefix = "oauthState:";

    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly IDataProtector _protector = protection.CreateProtector("Gateway.Credentials.OAuth.AuthorizationState.v1");

    /// <summary>
    /// Builds the authorization URL the admin opens; valid for 10 minutes, once. Started by a console user
    /// (<paramref name="consoleUserId"/>), it completes only in a browser signed in to the console as that user; started
    /// with the admin key, which no browser carries, the single-use state alone binds it.
    /// </summary>
    public Task<(Uri Url, DateTimeOffset ExpiresAt)> StartAsync(ServerDefinition server, AuthorizationStart start, string redirectUri, long? consoleUserId, CancellationToken cancellationToken) =>
        StartAsync(server, start, redirectUri, null, consoleUserId, cancellationToken);

    /// <summary>Builds the authorization URL where <paramref name="user"/> connects their own account, with the server's OAuth client.</summary>
    public Task<(Uri Url, DateTimeOffset ExpiresAt)> StartForUserAsync(ServerDefinition server, string user, string redirectUri, CancellationToken cancellationToken) =>
        server.Credential is { ClientId: { } clientId } client
            ? StartAsync(server, new AuthorizationStart(clientId, client.Secret, client.Scope, null), redirectUri, user, null, cancellationToken)
            : throw new OAuthException($"'{server.Name}' has no OAuth client to connect accounts with.");

    private async Task<(Uri Url, DateTimeOffset ExpiresAt)> StartAsync(ServerDefinition server, AuthorizationStart start, string redirectUri, string? user, long? consoleUserId, CancellationToken cancellationToken)
    {
        // A browser (the admin's, or a user connecting an account) waits on the discovery: bounded as the server's
        // handshake is, whatever the metadata endpoints do (the gateway's OAuth clients have no timeout of their own).
        AuthorizationServerMetadata metadata;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(server.ConnectTimeout);
            try
            {
                metadata = start.AuthorizationServer is { } issuer
                    ? await oauth.Discovery.ReadAsync(server.Name, issuer, deadline.Token)
                    : await oauth.Discovery.FindAsync(server.Name, server.Url!, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new OAuthException($"The OAuth metadata of '{server.Name}' could not be read within {server.ConnectTimeout.TotalSeconds:0.#} s (its ConnectTimeout).");
            }
        }

        if (metadata.AuthorizationEndpoint is null)
        {
            throw new OAuthException($"The authorization server of '{server.Name}' publishes no authorization endpoint.");
        }

        if (!metadata.CodeChallengeMethods.Contains("S256"))
        {
            throw new OAuthException($"The authorization server of '{server.Name}' does not advertise PKCE with S256; the gateway does not proceed without it.");
        }

        var verifier = Random();
        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var scope = string.Join(' ', (start.Scope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("offline_access").Distinct(StringComparer.Ordinal));
        var expiresAt = time.GetUtcNow() + Lifetime;
        var pending = new Pending(Random(), server.Name, ResourceIndicator.Of(server.Url!), metadata.Issuer, metadata.TokenEndpoint, metadata.IssParameterSupported, start with { Scope = scope }, verifier, redirectUri, expiresAt, user, consoleUserId);
        var state = StatePrefix + Base64Url.EncodeToString(_protector.Protect(JsonSerializer.SerializeToUtf8Bytes(pending)));
        var url = QueryHelpers.AddQueryString(metadata.AuthorizationEndpoint, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = start.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = state,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["resource"] = pending.Resource,
        });
        return (new Uri(url), expiresAt);
    }

    /// <summary>
    /// Redeems the code of a callback and stores the refresh token (the server's, or the connecting user's); returns the
    /// server's name and that user. <paramref name="browserUser"/> and <paramref name="browserConsoleUserId"/> are the
    /// console user signed in where the callback arrived (as an OAuth user name, and as the console's user id): a user's
    /// connection completes only in that user's own browser, an authorization a console user started only in theirs.
    /// </summary>
    /// <param name="storeServerCredential">
    /// Stores a server's own credential as an admin change (the operations layer: the role now, the configuration's
    /// rule, the audit) of whoever started it: the console user who completes it in their browser (true), or the admin
    /// key (false); yields why it was refused, or null.
    /// </param>
    public async Task<(string Server, string? User)> CompleteAsync(
        IQueryCollection query,
        string? browserUser,
        long? browserConsoleUserId,
        Func<string, UpstreamCredential, bool, CancellationToken, Task<string?>> storeServerCredential,
        CancellationToken cancellationToken)
    {
        // Single use: taken before anything else is checked, so a replayed or raced callback (on any instance) finds nothing.
        if (Open(query["state"].ToString()) is not { } pending || pending.ExpiresAt < time.GetUtcNow()
            || !await ledger.TryTakeAsync(LedgerPrefix + pending.Nonce, pending.ExpiresAt, cancellationToken))
        {
            throw new OAuthException(Unknown);
        }

        // Otherwise a user could open the connect link, pass the upstream's sign-in page on to a colleague, and have the
        // colleague's upstream account stored as their own (their agents then acting upstream as the colleague). The
        // state is spent either way; the code is never redeemed.
        if (pending.User is { } owner && !string.Equals(owner, browserUser, StringComparison.Ordinal))
        {
            throw new OAuthException("This account connection was started by another console user, or in another browser: sign in to the console as yourself and open the connect link again.");
        }

        // Likewise for the server's own credential: a leaked or forwarded authorization URL, completed with someone
        // else's upstream account, would make every agent's calls to the server act upstream as that account.
        if (pending.StartedBy is { } starter && starter != browserConsoleUserId)
        {
            throw new OAuthException("This authorization was started by another console user, or in another browser: sign in to the console as the admin who started it, or start it again.");
        }

        // RFC 9207: compared before anything else of the response is used, error responses included.
        var iss = query["iss"].ToString();
        if ((pending.IssParameterSupported || iss.Length > 0) && !string.Equals(iss, pending.Issuer, StringComparison.Ordinal))
        {
            throw new OAuthException($"The authorization response of '{pending.Server}' came from issuer '{iss}', not '{pending.Issuer}'.");
        }

        if (query["error"].ToString() is { Length: > 0 } error)
        {
            throw new OAuthException($"The authorization server refused for '{pending.Server}': {error} {query["error_description"]}".TrimEnd());
        }

        if (query["code"].ToString() is not { Length: > 0 } code)
        {
            throw new OAuthException("The authorization response has no code.");
        }

        var refreshToken = await RedeemAsync(pending, code, cancellationToken);
        if (pending.User is { } user)
        {
            await accounts.ConnectAsync(pending.Server, user, refreshToken, pending.TokenEndpoint, cancellationToken);
            LogUserConnected(pending.Server);
            return (pending.Server, user);
        }

        var credential = new UpstreamCredential
        {
            Kind = CredentialKind.OAuthRefreshToken,
            RefreshToken = refreshToken,
            TokenEndpoint = pending.TokenEndpoint,
            ClientId = pending.Start.ClientId,
            Secret = pending.Start.ClientSecret,
            Scope = pending.Start.Scope,
        };
        if (await storeServerCredential(pending.Server, credential, pending.StartedBy is not null, cancellationToken) is { } refused)
        {
            throw new OAuthException($"The credential of '{pending.Server}' was not stored: {refused}");
        }

        LogAuthorized(pending.Server);
        return (pending.Server, null);
    }

    private static string Random() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private async Task<string> RedeemAsync(Pending pending, string code, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = pending.RedirectUri,
            ["code_verifier"] = pending.Verifier,
            ["resource"] = pending.Resource,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, pending.TokenEndpoint);
        if (pending.Start.ClientSecret is { } secret)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(pending.Start.ClientId)}:{Uri.EscapeDataString(secret)}")));
        }
        else
        {
            form["client_id"] = pending.Start.ClientId;
        }

        request.Content = new FormUrlEncodedContent(form);

        // The admin's browser waits on this: the authorization server gets RedeemTimeout, and what it answers is read
        // bounded, as OAuth answers (OAuthJson); whatever goes wrong is the callback's refusal, not a crash.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(RedeemTimeout);
        try
        {
            using var response = await oauth.AuthorizationServerHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            using var json = await OAuthJson.TryReadAsync(response, $"the token endpoint of '{pending.Server}'", deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new OAuthException($"The token endpoint of '{pending.Server}' refused the authorization code: {(int)response.StatusCode} {OAuthJson.ErrorOf(json?.RootElement)}.");
            }

            return (json is null ? null : OAuthJson.String(json.RootElement, "refresh_token")) is { Length: > 0 } token
                ? token
                : throw new OAuthException($"The authorization server of '{pending.Server}' issued no refresh token (is offline_access allowed for the client?).");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException($"The token endpoint of '{pending.Server}' did not answer within {RedeemTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException ex)
        {
            throw new OAuthException($"The token endpoint of '{pending.Server}' could not be reached: {ex.HttpRequestError}.", ex);
        }
    }

    /// <summary>How long the authorization server may take to redeem a code (the admin's browser waits).</summary>
    internal static readonly TimeSpan RedeemTimeout = TimeSpan.FromSeconds(30);

    private Pending? Open(string state)
    {
        if (state.Length is 0 or > MaxStateLength || !state.StartsWith(StatePrefix, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Pending>(_protector.Unprotect(Base64Url.DecodeFromChars(state.AsSpan(StatePrefix.Length))));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            // Altered, sealed by another key ring, or not a state of this gateway: the same answer as a used one.
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "An admin authorized the gateway at the authorization server of upstream {Server}; its refresh token is stored.")]
    private partial void LogAuthorized(string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "A user connected their own account at the authorization server of upstream {Server}; their refresh token is stored.")]
    private partial void LogUserConnected(string server);

    /// <summary>
    /// What the callback needs, sealed into the state: the authorization server as discovered at the start (its issuer,
    /// compared with the response's; its token endpoint), the client (an admin's client secret travels encrypted, to the
    /// authorization server that issued it), the PKCE verifier, whose account it becomes, and the console user who
    /// started it (none when started with the admin key). A state sealed before <c>StartedBy</c> existed opens with none.
    /// </summary>
    private sealed record Pending(
        string Nonce,
        string Server,
        string Resource,
        string Issuer,
        string TokenEndpoint,
        bool IssParameterSupported,
        AuthorizationStart Start,
        string Verifier,
        string RedirectUri,
        DateTimeOffset ExpiresAt,
        string? User,
        long? StartedBy = null);
}
