using System.Net;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Bounds what an HTTP upstream's responses can make the gateway hold: each message of an event stream, and each
/// JSON body, at most the server's result limit (see <see cref="FramedMessageLimitStream"/> and <see cref="BodySizeLimitStream"/>).
/// Being the innermost of the gateway's handlers on every upstream request, it also notes a refused session on the
/// connection's <see cref="UpstreamTraffic"/> (the status is gone above it), rather than a handler of its own adding
/// one more asynchronous step to each call.
/// </summary>
internal sealed class ResultSizeLimitHandler(string server, long limit, UpstreamTraffic? traffic, Action<OversizedMessageReport>? onOversized) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (traffic is not null && response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound
            && request.Method != HttpMethod.Delete && request.Headers.Contains("Mcp-Session-Id"))
        {
            // The session the gateway holds is gone upstream (see UpstreamTraffic.SessionRefusals). Noted here, where
            // the status is still known: above this handler only the JSON-RPC error in the body is left. A standalone
            // stream refused with 400 is only a question about the session (see UpstreamTraffic.StreamRefusals).
            if (response.StatusCode == HttpStatusCode.BadRequest && request.Method == HttpMethod.Get)
            {
                traffic.AddStreamRefusal();
            }
            else
            {
                traffic.AddSessionRefusal();
            }
        }

        if (response.StatusCode != HttpStatusCode.NoContent && response.Content is { } content)
        {
            response.Content = new LimitedContent(content, this);
        }

        return response;
    }

    private Stream Wrap(Stream body, string? mediaType) => mediaType == "text/event-stream"
        ? new FramedMessageLimitStream(body, MessageFraming.ServerSentEvent, limit, EventFor, traffic, onOversized)
        : new BodySizeLimitStream(body, server, limit, traffic);

    private byte[] EventFor(string idJson)
    {
        var json = OversizedMessage.ErrorJson(idJson, server, limit);
        return [.. "event: message\ndata: "u8, .. json, .. "\n\n"u8];
    }

    /// <summary>The upstream's content, read through the limit.</summary>
    private sealed class LimitedContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly ResultSizeLimitHandler _owner;

        public LimitedContent(HttpContent inner, ResultSizeLimitHandler owner)
        {
            _inner = inner;
            _owner = owner;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            _owner.Wrap(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Headers.ContentType?.MediaType);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
