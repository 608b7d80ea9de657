using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Credentials.OAuth;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Exchanges a user's access token at the identity provider (RFC 8693) for one whose audience is an upstream, and
/// keeps it per server and subject token until shortly before it expires: a user's calls cost one exchange per token
/// lifetime, not one per call. Concurrent calls with the same token share one exchange. Bounded (<see cref="TokenExchangeSettings.MaxCachedTokens"/>).
/// </summary>
/// <remarks>
/// Kept per subject token, not per user: what the provider gives in exchange reflects the token it was given (its
/// client, its scopes), so a token exchanged for one of the user's agents (clients) never serves another of them, and
/// stops being used with the token it came from.
/// </remarks>
internal sealed partial class TokenExchange(
    TokenExchangeSettings settings,
    AgentOAuthSettings agentOAuth,
    OAuthTokenClient oauth,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<TokenExchange> logger)
{
    // An expires_in past a year is held to one (refreshed then): an authorization server's 1e15 must not overflow the clock.
    private const long MaxLifetimeSeconds = 366L * 24 * 3600;

    /// <summary>The largest token response read; real ones are a few KiB.</summary>
    public const int MaxResponseBytes = OAuthJson.MaxBytes;

    private readonly ConcurrentDictionary<(string Server, string User, string Subject), Entry> _entries = new();
    private readonly OutboundUrlPolicy _policy = new(options.Value.OAuth);
    private Task<Uri>? _endpoint;

    /// <summary>Gets how many exchanges were made (for tests and diagnostics).</summary>
    public int Exchanges => Volatile.Read(ref _exchanges);

    private int _exchanges;

    /// <summary>Gets how many tokens are cached.</summary>
    public int Cached => _entries.Count;

    /// <summary>The user's token for <paramref name="server"/>: cached, or exchanged from <paramref name="subjectToken"/> now.</summary>
    /// <exception cref="OAuthException">The identity provider refused or did not answer.</exception>
    public async ValueTask<string> TokenForAsync(ServerDefinition server, string user, string subjectToken, CancellationToken cancellationToken)
    {
        var key = (server.Name, user, Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(subjectToken))));
        if (_entries.TryGetValue(key, out var entry) && entry.Serves(server, time.GetUtcNow()))
        {
            return (await entry.Token.WaitAsync(cancellationToken)).Value;
        }

        if (_entries.Count >= settings.MaxCachedTokens)
        {
            Trim();
        }

        // Not tied to this caller's cancellation: other calls of the user may be waiting on the same exchange.
        var fresh = new Entry(server.ExchangeAudience, server.ExchangeResource, ExchangeAsync(server, subjectToken));
        _entries[key] = fresh;
        try
        {
            return (await fresh.Token.WaitAsync(cancellationToken)).Value;
        }
        catch (OAuthException)
        {
            _entries.TryRemove(new KeyValuePair<(string, string, string), Entry>(key, fresh));
            throw;
        }
    }

    /// <summary>Forgets the token the upstream refused, so the user's next call exchanges again.</summary>
    public void Refused(string server, string user, string token)
    {
        foreach (var (key, entry) in _entries)
        {
            if (key.Server == server && key.User == user && entry.Token.IsCompletedSuccessfully && entry.Token.Result.Value == token)
            {
                _entries.TryRemove(new KeyValuePair<(string, string, string), Entry>(key, entry));
            }
        }
    }

    /// <summary>Forgets every token of the user (revoked).</summary>
    public int ForgetUser(string user)
    {
        var forgotten = 0;
        foreach (var key in _entries.Keys)
        {
            if (key.User == user && _entries.TryRemove(key, out _))
            {
                forgotten++;
            }
        }

        return forgotten;
    }

    /// <summary>Drops what is expired; if the cache is still full, all of it (each user's next call exchanges again).</summary>
    private void Trim()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Token.IsCompleted && !entry.Serves(entry.Audience, entry.Resource, now))
            {
                _entries.TryRemove(new KeyValuePair<(string, string, string), Entry>(key, entry));
            }
        }

        if (_entries.Count >= settings.MaxCachedTokens)
        {
            LogCacheFull(settings.MaxCachedTokens);
            _entries.Clear();
        }
    }

    private async Task<Token> ExchangeAsync(ServerDefinition server, string subjectToken)
    {
        using var timeout = new CancellationTokenSource(settings.Timeout);
        var started = time.GetUtcNow();
        try
        {
            var endpoint = await EndpointAsync(timeout.Token);
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange",
                ["subject_token"] = subjectToken,
                ["subject_token_type"] = TokenExchangeSettings.AccessTokenType,
                ["requested_token_type"] = TokenExchangeSettings.AccessTokenType,
            };
            if (server.ExchangeAudience is { } audience)
            {
                form["audience"] = audience;
            }

            if (server.ExchangeResource is { } resource)
            {
                form["resource"] = resource;
            }

            if (!string.IsNullOrWhiteSpace(settings.Scope))
            {
                form["scope"] = settings.Scope;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
            if (settings.ClientSecret is { } secret)
            {
                // client_secret_basic (RFC 6749 2.3.1): both parts form-encoded before base64.
                request.Headers.Authorization = new AuthenticationHeaderValue(
                    "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(settings.ClientId ?? string.Empty)}:{Uri.EscapeDataString(secret)}")));
            }
            else if (settings.ClientId is { } clientId)
            {
                form["client_id"] = clientId;
            }

            request.Content = new FormUrlEncodedContent(form);
            using var response = await oauth.AuthorizationServerHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var json = await OAuthJson.ReadAsync(response, $"the identity provider (token exchange for '{server.Name}')", timeout.Token);
            var root = json.RootElement;
            if (!response.IsSuccessStatusCode)
            {
                var error = OAuthJson.String(root, "error");
                throw error == "invalid_grant"
                    ? new OAuthException(
                        $"The identity provider no longer accepts the user's token ({OAuthJson.ErrorOf(root)}): the user may have been disabled or signed out there. Sign in again (a new token for the agent) before calling '{server.Name}'.",
                        error: error)
                    : new OAuthException($"The identity provider refused to exchange the user's token for '{server.Name}': {(int)response.StatusCode} {OAuthJson.ErrorOf(root)}.", error: error);
            }

            if (OAuthJson.String(root, "access_token") is not { Length: > 0 } value)
            {
                throw new OAuthException($"The identity provider answered the token exchange for '{server.Name}' without an access_token.");
            }

            // RFC 8693 2.2.1: N_A means the token is not a bearer token; the upstream would not accept it as one.
            if (root.TryGetProperty("token_type", out _) && OAuthJson.String(root, "token_type") is var type && !string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                throw new OAuthException($"The identity provider issued a '{type}' token for '{server.Name}'; only Bearer is supported.");
            }

            var lifetime = root.TryGetProperty("expires_in", out var expires) && expires.TryGetInt64(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(Math.Min(seconds, MaxLifetimeSeconds)) : TimeSpan.FromMinutes(5);
            var margin = lifetime / 2 < settings.RefreshBefore ? lifetime / 2 : settings.RefreshBefore;
            Interlocked.Increment(ref _exchanges);
            LogExchanged(server.Name, lifetime.TotalSeconds);

            // Timed from when the request was sent: the token may have been issued any time after that.
            return new Token(value, started + lifetime - margin);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new OAuthException($"The identity provider did not answer the token exchange for '{server.Name}' within {settings.Timeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            throw new OAuthException($"The token exchange for '{server.Name}' failed: {ex.Message}", ex);
        }
    }

    private Task<Uri> EndpointAsync(CancellationToken cancellationToken)
    {
        if (settings.TokenEndpoint is { } configured)
        {
            return Task.FromResult(_policy.Check(configured, "token exchange endpoint"));
        }

        if (!agentOAuth.IsEnabled)
        {
            throw new OAuthException("Token exchange needs Gateway:TokenExchange:TokenEndpoint, or Gateway:AgentOAuth:Issuer to discover it from.");
        }

        // Discovered once; a failed discovery is tried again by the next call.
        var endpoint = _endpoint;
        if (endpoint is null || endpoint.IsFaulted || endpoint.IsCanceled)
        {
            _endpoint = endpoint = DiscoverAsync(cancellationToken);
        }

        return endpoint;
    }

    private async Task<Uri> DiscoverAsync(CancellationToken cancellationToken)
    {
        var metadata = await oauth.Discovery.ReadAsync("token exchange", agentOAuth.Issuer!, cancellationToken);
        return _policy.Check(metadata.TokenEndpoint, "token exchange endpoint");
    }


    [LoggerMessage(Level = LogLevel.Debug, Message = "Exchanged a user's token for upstream {Server}, valid {Seconds} s.")]
    private partial void LogExchanged(string server, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cache of exchanged tokens reached {Max} entries; emptied (raise Gateway:TokenExchange:MaxCachedTokens if this repeats).")]
    private partial void LogCacheFull(int max);

    private sealed record Token(string Value, DateTimeOffset RefreshAt);

    /// <summary>An exchange for one user and server, pending or done, and what it was asked for.</summary>
    private sealed record Entry(string? Audience, string? Resource, Task<Token> Token)
    {
        public bool Serves(ServerDefinition server, DateTimeOffset now) => Serves(server.ExchangeAudience, server.ExchangeResource, now);

        /// <summary>Pending, or done and not yet due, for the same audience and resource (an edited server exchanges again).</summary>
        public bool Serves(string? audience, string? resource, DateTimeOffset now) =>
            Audience == audience && Resource == resource
            && (!Token.IsCompleted || (Token.IsCompletedSuccessfully && now < Token.Result.RefreshAt));
    }
}
