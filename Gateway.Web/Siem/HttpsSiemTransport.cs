using System.Buffers;
using System.Net.Http.Headers;
using Gateway.Core.Siem;

namespace Gateway.Web.Siem;

/// <summary>
/// Posts each batch as one HTTPS request (a JSON array, or Splunk HEC envelopes). A 2xx answer acknowledges the whole
/// batch; anything else (an error status, a timeout, a refused certificate) fails it, and it is sent again.
/// </summary>
internal sealed class HttpsSiemTransport : ISiemTransport
{
    private readonly SiemSink _sink;
    private readonly HttpClient _http;
    private readonly string _host = Environment.MachineName;

    public HttpsSiemTransport(SiemSink sink)
    {
        _sink = sink;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = sink.Options.Timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => sink.Trust.Validate(certificate, chain, errors);
        if (sink.Options.ServerName is { } name)
        {
            handler.SslOptions.TargetHost = name;
        }

        _http = new HttpClient(handler) { Timeout = sink.Options.Timeout };
    }

    public int Size(OcsfEvent e) => HttpBatchWriter.Size(_sink.Options.Format, e);

    public async Task SendAsync(IReadOnlyList<OcsfEvent> batch, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(batch.Sum(Size) + 2);
        HttpBatchWriter.Write(_sink.Options.Format, batch, _host, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, _sink.Options.Url) { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (_sink.Secret is { } secret)
        {
            if (_sink.Options.Format == HttpBatchFormat.SplunkHec)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Splunk " + secret);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(_sink.Options.AuthHeader, secret);
            }
        }

        try
        {
            // Headers only: the answer's body is not needed, and a receiver cannot make the gateway read a large one.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new SiemDeliveryException($"{Shown} answered HTTP {(int)response.StatusCode}.");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SiemDeliveryException($"Posting to {Shown} failed: {ex.Message}", ex);
        }
    }

    // The receiver's URL as errors show it (logged at each retry, kept as the sink's last error, shown on the console):
    // some receivers take their key in the URL (Datadog's dd-api-key, a token in the path), masked as a server's URL is.
    private string Shown => Gateway.Core.Servers.SecretParts.MaskUrl(_sink.Options.Url)!;

    public void Dispose() => _http.Dispose();
}
