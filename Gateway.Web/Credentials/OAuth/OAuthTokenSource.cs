using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Core.Credentials;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// The access token of one server's OAuth credential, from the client-credentials grant or from a refresh token an
/// admin obtained: obtained on first use, cached, and replaced before it expires (at the first request inside the
/// refresh window), one token request at a time. A refresh token the authorization server rotates is kept, and handed
/// to <paramref name="persistRefreshToken"/> so a restart does not fall back to the used (revoked) one. Each access
/// token obtained is handed to <paramref name="obtained"/> (the result guard's).
/// </summary>
/// <remarks>
/// A token request belongs to no caller: a caller that gives up (its call cancelled, the gateway stopping) stops waiting,
/// the request goes on to its own timeout and stores what it got. Cancelled half way, a rotating server's answer would
/// be lost with the only refresh token that still works.
/// </remarks>
internal sealed partial class OAuthTokenSource(
    string server,
    string? resource,
    UpstreamCredential credential,
    HttpClient http,
    OutboundUrlPolicy policy,
    AuthorizationServerDiscovery discovery,
    TimeSpan refreshBefore,
    TimeSpan requestTimeout,
    TimeProvider time,
    Func<string, UpstreamCredential, Task> persistRefreshToken,
    Action<string> obtained,
    RefreshesInFlight inFlight,
    ILogger logger,
    RefreshChain? chain = null)
{
    // An expires_in past a year is held to one (refreshed then): an authorization server's 1e15 must not overflow the clock.
    private const long MaxLifetimeSeconds = 366L * 24 * 3600;

    private readonly Lock _gate = new();
    private volatile CachedToken? _token;
    private Task<CachedToken>? _pending;
    private string? _discoveredEndpoint;
    private string? _refreshToken = credential.RefreshToken;

    /// <summary>Gets how many tokens were obtained (for tests and diagnostics).</summary>
    public int Obtained { get; private set; }

    /// <summary>Returns a token valid for longer than the refresh window, obtaining a new one when needed.</summary>
    public async ValueTask<string> GetAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && !cached.Due(time.GetUtcNow()))
        {
            return cached.Value;
        }

        Task<CachedToken> pending;
        TaskCompletionSource<CachedToken>? mine = null;
        lock (_gate)
        {
            if (_token is { } fresh && !fresh.Due(time.GetUtcNow()))
            {
                return fresh.Value;
            }

            if (_pending is null)
            {
                mine = new TaskCompletionSource<CachedToken>(TaskCreationOptions.RunContinuationsAsynchronously);
                _pending = mine.Task;
            }

            pending = _pending;
        }

        if (mine is not null)
        {
            inFlight.Track(RefreshAsync(mine));
        }

        return (await pending.WaitAsync(cancellationToken)).Value;
    }

    /// <summary>Forgets the cached token (the upstream refused it), so the next request obtains another.</summary>
    public void Invalidate(string refused)
    {
        if (_token?.Value == refused)
        {
            _token = null;
        }
    }

    /// <summary>Obtains a token for everyone waiting on <paramref name="done"/>; never throws (the waiters get the error).</summary>
    private async Task RefreshAsync(TaskCompletionSource<CachedToken> done)
    {
        try
        {
            var token = await RequestAsync();
            _token = token;
            EndPending();
            done.SetResult(token);
        }
        catch (Exception ex)
        {
            EndPending();
            done.SetException(ex);

            // Observed here: no caller may be left waiting for it.
            _ = done.Task.Exception;
        }
    }

    /// <summary>The next caller starts a new request (after a failure too) rather than joining this ended one.</summary>
    private void EndPending()
    {
        lock (_gate)
        {
            _pending = null;
        }
    }

    private async Task<CachedToken> RequestAsync()
    {
        using var timeout = new CancellationTokenSource(requestTimeout);
        var started = time.GetUtcNow();
        try
        {
            // A discovered endpoint is remembered for this credential; the tokens, not the metadata, expire.
            var endpoint = policy.Check(credential.TokenEndpoint ?? (_discoveredEndpoint ??= await DiscoverAsync(timeout.Token)), "token endpoint");
            if (credential.Kind != CredentialKind.OAuthRefreshToken || chain is null)
            {
                return await RequestAsync(endpoint, started, timeout.Token);
            }

            // One refresh of this chain at a time across the instances, each with the newest stored token: another
            // instance may have rotated it (and so spent the one this instance holds) since this one read it.
            await using (await chain.Lock.AcquireAsync(chain.Name, timeout.Token))
            {
                await AdoptStoredAsync(timeout.Token);
                return await RequestAsync(endpoint, started, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new OAuthException($"The authorization server of '{server}' did not answer within {requestTimeout.TotalSeconds:0.#} s.");
        }
        catch (OperationCanceledException ex)
        {
            // Only the gateway stopping (its clients disposed after the wait for requests under way) gets here.
            throw new OAuthException($"The token request of '{server}' was abandoned: the gateway is stopping.", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            throw new OAuthException($"The token request of '{server}' failed: {ex.Message}", ex);
        }
    }

    private async Task AdoptStoredAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await chain!.StoredRefreshToken(cancellationToken) is { Length: > 0 } stored && stored != _refreshToken)
            {
                LogAdopted(server);
                _refreshToken = stored;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is the arbiter; without it this instance's own token is the best there is.
            LogStoredUnreadable(server, ex.Message);
        }
    }

    private Task<string> DiscoverAsync(CancellationToken cancellationToken) =>
        resource is null
            ? throw new OAuthException($"'{server}' has no token endpoint and no URL to discover one from.")
            : discovery.FindTokenEndpointAsync(server, resource, cancellationToken);

    private async Task<CachedToken> RequestAsync(Uri endpoint, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var refreshing = credential.Kind == CredentialKind.OAuthRefreshToken;
        var form = refreshing
            ? new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = _refreshToken! }
            : new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (!string.IsNullOrWhiteSpace(credential.Scope))
        {
            form["scope"] = credential.Scope;
        }

        if (resource is not null)
        {
            // RFC 8707: the token is requested for this upstream only, so it cannot be replayed elsewhere.
            form["resource"] = ResourceIndicator.Of(resource);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        if (credential.Secret is null)
        {
            // A public client (a refresh token obtained by a native app flow) identifies itself without a secret.
            form["client_id"] = credential.ClientId!;
        }
        else
        {
            // client_secret_basic (RFC 6749 2.3.1): both parts form-encoded before base64.
            request.Headers.Authorization = new AuthenticationHeaderValue(
                "Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(credential.ClientId!)}:{Uri.EscapeDataString(credential.Secret)}")));
        }

        request.Content = new FormUrlEncodedContent(form);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var json = await OAuthJson.TryReadAsync(response, $"the token endpoint of '{server}'", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = json is null ? null : OAuthJson.String(json.RootElement, "error");
            throw new OAuthException(refreshing
                ? $"The token endpoint of '{server}' refused the refresh token: {(int)response.StatusCode} {OAuthJson.ErrorOf(json?.RootElement)}. Obtain a new one and set it as the server's credential."
                : $"The token endpoint of '{server}' refused the client credentials: {(int)response.StatusCode} {OAuthJson.ErrorOf(json?.RootElement)}.",
                error: error);
        }

        var root = json?.RootElement ?? throw new OAuthException($"The token endpoint of '{server}' answered {(int)response.StatusCode} without a JSON object.");
        if (OAuthJson.String(root, "access_token") is not { Length: > 0 } value)
        {
            throw new OAuthException($"The token endpoint of '{server}' answered without an access_token.");
        }

        if (root.TryGetProperty("token_type", out _) && OAuthJson.String(root, "token_type") is var type && !string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new OAuthException($"The token endpoint of '{server}' issued a '{type}' token; only Bearer is supported.");
        }

        if (refreshing && OAuthJson.String(root, "refresh_token") is { Length: > 0 } next && next != _refreshToken)
        {
            // The authorization server rotated it (OAuth 2.1 for public clients): the old one is now spent.
            var previous = _refreshToken!;
            _refreshToken = next;
            await persistRefreshToken(previous, credential with { RefreshToken = next, RotatedAt = null });
        }

        var lifetime = root.TryGetProperty("expires_in", out var expires) && expires.TryGetInt64(out var seconds) ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxLifetimeSeconds)) : TimeSpan.FromHours(1);
        var margin = lifetime / 2 < refreshBefore ? lifetime / 2 : refreshBefore;
        Obtained++;
        LogObtained(server, lifetime.TotalSeconds);

        // The result guard finds it verbatim from now on, as it finds the stored credential (an upstream echoing its
        // request headers must not hand an agent the token).
        obtained(value);

        // Timed from when the request was sent: the token may have been issued any time after that.
        return new CachedToken(value, started + lifetime - margin);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Obtained an access token for upstream {Server}, valid {Seconds} s.")]
    private partial void LogObtained(string server, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "The refresh token of upstream {Server} was rotated by another instance; refreshing with the stored one.")]
    private partial void LogAdopted(string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored refresh token of upstream {Server} could not be read ({Reason}); refreshing with this instance's own.")]
    private partial void LogStoredUnreadable(string server, string reason);

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt)
    {
        public bool Due(DateTimeOffset now) => now >= RefreshAt;
    }
}
