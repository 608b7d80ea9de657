using Gateway.Web.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.KeepAlive;

/// <summary>
/// Keeps an agent's idle event streams alive through reverse proxies (see <see cref="McpEndpointOptions.StreamKeepAlive"/>):
/// a 2025-11-25 session's standalone stream (a GET) and a 2026-07-28 <c>subscriptions/listen</c> (a POST naming that
/// method in its <c>Mcp-Method</c> header). Tool calls and every other request keep the body as Kestrel made it: they
/// are answered within a call's time, and the hot path gains nothing from a wrapper.
/// </summary>
internal sealed class EventStreamKeepAlive(RequestDelegate next, EventStreamBeats beats, TimeProvider time, IOptionsMonitor<GatewayOptions> options)
{
    private const string Listen = "subscriptions/listen";

    public Task InvokeAsync(HttpContext context)
    {
        // Not async here: a tool call passes through without a state machine of this middleware's own.
        return !IsIdleStream(context.Request) || options.CurrentValue.Mcp.StreamKeepAlive <= TimeSpan.Zero
            || context.Features.Get<IHttpResponseBodyFeature>() is not { } prior
            ? next(context)
            : KeepAliveAsync(context, prior);
    }

    private async Task KeepAliveAsync(HttpContext context, IHttpResponseBodyFeature prior)
    {
        var stream = new KeepAliveStream(prior.Stream, context.Response, time);
        var body = new WrappedResponseBody(prior, stream);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        try
        {
            using var registration = beats.Add(stream);
            await next(context);
            await body.FlushWriterAsync();
        }
        finally
        {
            await stream.EndAsync();
            context.Features.Set(prior);
        }
    }

    private static bool IsIdleStream(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method) && request.Headers["Mcp-Method"] == Listen;
}
