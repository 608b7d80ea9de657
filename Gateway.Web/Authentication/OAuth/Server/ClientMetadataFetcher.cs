using System.Net;
using System.Text.Json;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Fetches Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): the client id is an https URL
/// and the document at it describes the client. Anyone can name any URL as a client id, so the gateway fetches only
/// from hosts an admin allowed, follows redirects only within the same host, reads at most 64 KiB, and gives up after
/// 5 seconds in all (redirects and body included).
/// </summary>
internal sealed class ClientMetadataFetcher : IDisposable
{
    /// <summary>The time one fetch may take, redirects and body included.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private const int MaxRedirects = 3;

    private readonly AuthorizationServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;

    public ClientMetadataFetcher(AgentOAuthSettings settings, TimeProvider time)
    {
        _settings = settings.AuthorizationServer;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = Timeout, UseCookies = false })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Tells whether a client id names a metadata document (an http(s) URL) rather than a registered client.</summary>
    public static bool IsMetadataUrl(string clientId) =>
        clientId.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || clientId.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why <paramref name="clientId"/> is not fetched at all (not an allowed URL), or <see langword="null"/>: checked before anything leaves the gateway.</summary>
    public string? Check(string clientId)
    {
        if (clientId.Length > AuthorizationServerSettings.MaxUrlLength || !Uri.TryCreate(clientId, UriKind.Absolute, out var url))
        {
            return "The client id is not a URL of at most 2048 characters.";
        }

        if (url.Scheme != Uri.UriSchemeHttps && (_settings.RequireHttpsClientMetadata || url.Scheme != Uri.UriSchemeHttp))
        {
            return "A client id URL must be https.";
        }

        if (url.AbsolutePath == "/" || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            // The draft: a path component, no fragment, no credentials.
            return "A client id URL must have a path and no fragment or user info.";
        }

        if (!_settings.ClientMetadataHosts.Contains(url.IdnHost, StringComparer.OrdinalIgnoreCase))
        {
            return $"Clients from {url.IdnHost} are not allowed here (Gateway:AgentOAuth:AuthorizationServer:ClientMetadataHosts).";
        }

        return null;
    }

    /// <summary>
    /// Fetches and checks the document of <paramref name="clientId"/>; on failure, why (shown with the refused request).
    /// With a document, how long its host lets it be kept (<c>Cache-Control</c>: <c>max-age</c>, zero for <c>no-cache</c>
    /// or <c>no-store</c>), when it says.
    /// </summary>
    public async Task<ClientMetadataFetch> FetchAsync(string clientId, CancellationToken cancellationToken)
    {
        if (Check(clientId) is { } refusal)
        {
            return Refused(refusal);
        }

        var url = new Uri(clientId, UriKind.Absolute);
        using var deadline = new CancellationTokenSource(Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var (json, maxAge) = await ReadAsync(url, linked.Token);
            if (json is null)
            {
                return Refused($"The client metadata document is larger than {AuthorizationServerSettings.MaxMetadataBytes / 1024} KiB.");
            }

            using var document = JsonDocument.Parse(json);
            var (metadata, _, description) = ClientMetadata.Read(document.RootElement);
            if (metadata is null)
            {
                return Refused("The client metadata document is invalid: " + description);
            }

            return metadata.ClientId == clientId
                ? new(metadata, null, maxAge)
                : new(null, "The client metadata document's client_id is not the URL it was fetched from.");
        }
        catch (FetchRefusedException ex)
        {
            return Refused(ex.Message);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Refused($"The client metadata document did not arrive within {Timeout.TotalSeconds:0} seconds.");
        }
        catch (HttpRequestException ex)
        {
            return Refused($"The client metadata document could not be fetched: {ex.HttpRequestError}.");
        }
        catch (JsonException)
        {
            return Refused("The client metadata document is not JSON.");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads the document, following same-host redirects, and its <c>Cache-Control</c> lifetime; <see langword="null"/> when it is over the size bound.</summary>
    private async Task<(byte[]? Body, TimeSpan? MaxAge)> ReadAsync(Uri url, CancellationToken cancellationToken)
    {
        var current = url;
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                var next = new Uri(current, location);
                if (redirects >= MaxRedirects || next.Scheme != url.Scheme || !string.Equals(next.IdnHost, url.IdnHost, StringComparison.OrdinalIgnoreCase) || next.Port != url.Port)
                {
                    throw new FetchRefusedException(redirects >= MaxRedirects
                        ? $"The client metadata document redirects more than {MaxRedirects} times."
                        : "The client metadata document redirects to another host, which is not followed.");
                }

                current = next;
                continue;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new FetchRefusedException($"The client metadata document's host answered HTTP {(int)response.StatusCode}.");
            }

            if (response.Content.Headers.ContentLength > AuthorizationServerSettings.MaxMetadataBytes)
            {
                return (null, null);
            }

            var caching = response.Headers.CacheControl;
            var maxAge = caching is null ? null : caching.NoStore || caching.NoCache ? TimeSpan.Zero : caching.MaxAge;

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await Gateway.Web.Hosting.BoundedBody.ReadAsync(body, AuthorizationServerSettings.MaxMetadataBytes, cancellationToken) is { } bytes ? (bytes, maxAge) : (null, null);
        }
    }

    private static ClientMetadataFetch Refused(string refusal) => new(null, refusal);

    /// <summary>A fetch the gateway stops on purpose (a redirect off the host, an error status); its message is the refusal.</summary>
    private sealed class FetchRefusedException(string message) : Exception(message);
}

/// <summary>What fetching a client metadata document gave: the checked document, or why it cannot be used.</summary>
/// <param name="Metadata">The document, checked.</param>
/// <param name="Refusal">Why there is none, as the refused request shows it.</param>
/// <param name="MaxAge">How long the document's host lets it be kept, when it says (zero: not at all).</param>
internal sealed record ClientMetadataFetch(ClientMetadata? Metadata, string? Refusal, TimeSpan? MaxAge = null)
{
    /// <summary>Gets, for a refusal that may pass (fetches over their bound, the client not stored), the seconds to wait.</summary>
    public int? RetryAfterSeconds { get; init; }
}
