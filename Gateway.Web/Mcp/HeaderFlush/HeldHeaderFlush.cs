using Gateway.Web.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.HeaderFlush;

/// <summary>
/// Lets a POST to the MCP endpoint answer with its headers and first event in one send (see <see cref="HeldHeaderStream"/>).
/// Only 2025-11-25 POSTs (a request the SDK answers with an event stream) are wrapped; the listen stream (GET) and
/// everything else keep the body as Kestrel made it.
/// </summary>
/// <remarks>
/// The hold (<c>Gateway:Mcp:ResponseHeaderHold</c>, 250 ms by default) is short against any client's wait for headers
/// (HttpClient's timeout is 100 s) and long against a forwarded call (a few ms); the SDK holds its own 2026-07-28 flush
/// the same 250 ms.
/// </remarks>
internal sealed class HeldHeaderFlush(RequestDelegate next, TimeProvider time, IOptionsMonitor<GatewayOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var hold = options.CurrentValue.Mcp.ResponseHeaderHold;
        // A 2026-07-28 request is left alone: the SDK already holds that flush itself (holding it again would double the wait).
        if (hold <= TimeSpan.Zero || !HttpMethods.IsPost(context.Request.Method) || ParamHeaderValidation.IsPerRequest(context)
            || context.Features.Get<IHttpResponseBodyFeature>() is not { } prior)
        {
            await next(context);
            return;
        }

        var body = new Feature(prior, new HeldHeaderStream(prior.Stream, time, hold));
        context.Features.Set<IHttpResponseBodyFeature>(body);
        try
        {
            await next(context);
        }
        finally
        {
            // The hold ends with the handler: a flush still held is not needed (Kestrel sends the headers as the
            // response ends) and must not fire on a finished response.
            await body.EndAsync();
            context.Features.Set(prior);
        }
    }

    /// <summary>The body whose first write is held; a start, a file or the end are not held.</summary>
    private sealed class Feature(IHttpResponseBodyFeature prior, HeldHeaderStream stream) : WrappedResponseBody(prior, stream)
    {
        /// <summary>Ends the hold and passes on what a writer over the body still buffers.</summary>
        public async Task EndAsync()
        {
            await stream.Begin().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await FlushWriterAsync();
        }

        protected override Task BeforeDirectAsync() => stream.Begin();
    }
}
