using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Web.Hosting;

/// <summary>
/// Completes ASP.NET Core's request span with what ASP.NET Core 10 sets only from its start
/// (<see cref="GatewayTracing.UseNativeHttpSpanAttributes"/>): the HTTP semantic conventions' <c>http.route</c>,
/// <c>http.response.status_code</c>, <c>error.type</c> for a 5xx, and the span name <c>{method} {route}</c>, as the
/// OpenTelemetry instrumentation package would (ASP.NET Core 11 does it itself). Only recorded spans are touched: the
/// MCP endpoint's when tracing is on (<see cref="AgentTrafficSampler"/>); any other request costs a feature lookup.
/// </summary>
internal static class HttpSpanAttributes
{
    // Boxed once: a status code tag would otherwise box on every traced request.
    private static readonly object Ok = 200;
    private static readonly object Accepted = 202;

    /// <summary>First in the pipeline, so that a request refused by an earlier check (Origin, authentication) has its status too.</summary>
    public static WebApplication UseGatewayHttpSpans(this WebApplication app)
    {
        // The span and its sampling decision exist before the first middleware runs: a request that is not recorded (no
        // tracing, the console's requests) passes straight through, without an async frame of its own.
        // (Without tracing ASP.NET Core may still create an activity of its own for its logs: not from its source, and
        // never exported.)
        app.Use(static (context, next) => context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true, Source.Name: GatewayTracing.AspNetCoreSource } span
            ? CompleteAfterAsync(span, context, next)
            : next(context));
        return app;
    }

    private static async Task CompleteAfterAsync(Activity span, HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        finally
        {
            Complete(span, context);
        }
    }

    private static void Complete(Activity span, HttpContext context)
    {
        var status = context.Response.StatusCode;
        span.SetTag("http.response.status_code", status switch { 200 => Ok, 202 => Accepted, _ => status });
        if (status >= 500)
        {
            span.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
        {
            span.SetTag("http.route", route);
            span.DisplayName = context.Request.Method + " " + route;
        }
    }
}
