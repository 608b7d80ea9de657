using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Core.Credentials;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// The access token of one server's OAuth client-credentials credential: obtained on first use, cached, and replaced
/// before it expires (at the first request inside the refresh window), one token request at a time.
/// </summary>
internal sealed partial class ClientCredentialsTokenSource(
    string server,
    string? resource,
    UpstreamCredential credential,
    HttpClient http,
    OutboundUrlPolicy policy,
    AuthorizationServerDiscovery discovery,
    TimeSpan refreshBefore,
    TimeSpan requestTimeout,
    TimeProvider time,
    ILogger logger)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile CachedToken? _token;
    private string? _discoveredEndpoint;

    /// <summary>Gets how many tokens were obtained (for tests and diagnostics).</summary>
    public int Obtained { get; private set; }

    /// <summary>Returns a token valid for longer than the refresh window, obtaining a new one when needed.</summary>
    public async ValueTask<string> GetAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && !cached.Due(time.GetUtcNow()))
        {
            return cached.Value;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_token is { } fresh && !fresh.Due(time.GetUtcNow()))
            {
                return fresh.Value;
            }

            _token = await RequestAsync(cancellationToken);
            return _token.Value;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Forgets the cached token (the upstream refused it), so the next request obtains another.</summary>
    public void Invalidate(string refused)
    {
        if (_token?.Value == refused)
        {
            _token = null;
        }
    }

    private async Task<CachedToken> RequestAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(requestTimeout);
        var started = time.GetUtcNow();
        try
        {
            // A discovered endpoint is remembered for this credential; the tokens, not the metadata, expire.
            var endpoint = policy.Check(credential.TokenEndpoint ?? (_discoveredEndpoint ??= await DiscoverAsync(timeout.Token)), "token endpoint");
            return await RequestAsync(endpoint, started, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuthException($"The authorization server of '{server}' did not answer within {requestTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            throw new OAuthException($"The token request of '{server}' failed: {ex.Message}", ex);
        }
    }

    private Task<string> DiscoverAsync(CancellationToken cancellationToken) =>
        resource is null
            ? throw new OAuthException($"'{server}' has no token endpoint and no URL to discover one from.")
            : discovery.FindTokenEndpointAsync(server, resource, cancellationToken);

    private async Task<CachedToken> RequestAsync(Uri endpoint, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (!string.IsNullOrWhiteSpace(credential.Scope))
        {
            form["scope"] = credential.Scope;
        }

        if (resource is not null)
        {
            // RFC 8707: the token is requested for this upstream only, so it cannot be replayed elsewhere.
            form["resource"] = resource;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };

        // client_secret_basic (RFC 6749 2.3.1): both parts form-encoded before base64.
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(credential.ClientId!)}:{Uri.EscapeDataString(credential.Secret ?? string.Empty)}")));
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new OAuthException($"The token endpoint of '{server}' refused the client credentials: {(int)response.StatusCode} {ErrorOf(body)}.");
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (!root.TryGetProperty("access_token", out var accessToken) || accessToken.GetString() is not { Length: > 0 } value)
        {
            throw new OAuthException($"The token endpoint of '{server}' answered without an access_token.");
        }

        if (root.TryGetProperty("token_type", out var type) && !string.Equals(type.GetString(), "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new OAuthException($"The token endpoint of '{server}' issued a '{type.GetString()}' token; only Bearer is supported.");
        }

        var lifetime = root.TryGetProperty("expires_in", out var expires) && expires.TryGetInt64(out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromHours(1);
        var margin = lifetime / 2 < refreshBefore ? lifetime / 2 : refreshBefore;
        Obtained++;
        LogObtained(server, lifetime.TotalSeconds);

        // Timed from when the request was sent: the token may have been issued any time after that.
        return new CachedToken(value, started + lifetime - margin);
    }

    /// <summary>The error code and description of an OAuth error response (RFC 6749 5.2); never echoes anything else.</summary>
    private static string ErrorOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var error = json.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
            var description = json.RootElement.TryGetProperty("error_description", out var d) ? d.GetString() : null;
            return string.Join(": ", new[] { error, description?.TrimEnd('.') }.Where(s => !string.IsNullOrEmpty(s)));
        }
        catch (JsonException)
        {
            return "(no OAuth error)";
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Obtained an access token for upstream {Server}, valid {Seconds} s.")]
    private partial void LogObtained(string server, double seconds);

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt)
    {
        public bool Due(DateTimeOffset now) => now >= RefreshAt;
    }
}
