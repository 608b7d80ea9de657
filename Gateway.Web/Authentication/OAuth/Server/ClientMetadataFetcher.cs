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

    /// <summary>Fetches and checks the document of <paramref name="clientId"/>; on failure, why (shown with the refused request).</summary>
    public async Task<(ClientMetadata? Metadata, string? Refusal)> FetchAsync(string clientId, CancellationToken cancellationToken)
    {
        if (clientId.Length > AuthorizationServerSettings.MaxUrlLength || !Uri.TryCreate(clientId, UriKind.Absolute, out var url))
        {
            return (null, "The client id is not a URL of at most 2048 characters.");
        }

        if (url.Scheme != Uri.UriSchemeHttps && (_settings.RequireHttpsClientMetadata || url.Scheme != Uri.UriSchemeHttp))
        {
            return (null, "A client id URL must be https.");
        }

        if (url.AbsolutePath == "/" || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            // The draft: a path component, no fragment, no credentials.
            return (null, "A client id URL must have a path and no fragment or user info.");
        }

        if (!_settings.ClientMetadataHosts.Contains(url.IdnHost, StringComparer.OrdinalIgnoreCase))
        {
            return (null, $"Clients from {url.IdnHost} are not allowed here (Gateway:AgentOAuth:AuthorizationServer:ClientMetadataHosts).");
        }

        using var deadline = new CancellationTokenSource(Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var json = await ReadAsync(url, linked.Token);
            if (json is null)
            {
                return (null, $"The client metadata document is larger than {AuthorizationServerSettings.MaxMetadataBytes / 1024} KiB.");
            }

            using var document = JsonDocument.Parse(json);
            var (metadata, _, description) = ClientMetadata.Read(document.RootElement);
            if (metadata is null)
            {
                return (null, "The client metadata document is invalid: " + description);
            }

            return metadata.ClientId == clientId
                ? (metadata, null)
                : (null, "The client metadata document's client_id is not the URL it was fetched from.");
        }
        catch (FetchRefusedException ex)
        {
            return (null, ex.Message);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"The client metadata document did not arrive within {Timeout.TotalSeconds:0} seconds.");
        }
        catch (HttpRequestException ex)
        {
            return (null, $"The client metadata document could not be fetched: {ex.HttpRequestError}.");
        }
        catch (JsonException)
        {
            return (null, "The client metadata document is not JSON.");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads the document, following same-host redirects; <see langword="null"/> when it is over the size bound.</summary>
    private async Task<byte[]?> ReadAsync(Uri url, CancellationToken cancellationToken)
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
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[AuthorizationServerSettings.MaxMetadataBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            return length > AuthorizationServerSettings.MaxMetadataBytes ? null : buffer[..length];
        }
    }

    /// <summary>A fetch the gateway stops on purpose (a redirect off the host, an error status); its message is the refusal.</summary>
    private sealed class FetchRefusedException(string message) : Exception(message);
}
