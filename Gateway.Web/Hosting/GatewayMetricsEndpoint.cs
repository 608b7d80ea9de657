using System.Security.Cryptography;
using System.Text;
using Gateway.Web.Authentication;

namespace Gateway.Web.Hosting;

/// <summary>
/// <c>/metrics</c> in the Prometheus text format (OpenTelemetry's Prometheus exporter, fed by the same meter provider
/// as OTLP). Either protected on the gateway's own port (the admin or auditor key, or the metrics bearer token) or on a
/// listen address of its own that serves nothing else (<see cref="PrometheusSettings.Url"/>): the metrics name servers,
/// tools and decisions, which is not for anybody who can reach the MCP endpoint.
/// </summary>
internal static class GatewayMetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Adds the metrics listen address, if any, to the addresses Kestrel listens on.</summary>
    public static void UseGatewayMetricsUrl(this ConfigureWebHostBuilder web, ConfigurationManager configuration)
    {
        if (PrometheusSettings.Read(configuration.GetSection("Telemetry:Prometheus")) is not { Enabled: true, Url: { } url })
        {
            return;
        }

        if (configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            configuration["Kestrel:Endpoints:Metrics:Url"] = url.AbsoluteUri;
        }
        else
        {
            web.UseUrls($"{web.GetSetting(WebHostDefaults.ServerUrlsKey)};{url.AbsoluteUri}".TrimStart(';'));
        }
    }

    /// <summary>First in the pipeline, so that on the metrics port nothing else of the gateway answers.</summary>
    public static WebApplication UseGatewayMetrics(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<TelemetrySettings>().Prometheus;
        if (!settings.Enabled)
        {
            return app;
        }

        if (settings.Url is { Port: var port })
        {
            app.Use((context, next) =>
            {
                if (context.Connection.LocalPort == port && !IsMetrics(context))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Connection.LocalPort == port && IsMetrics(context));
            return app;
        }

        var adminKey = app.Services.GetRequiredService<AdminKey>();
        var token = settings.BearerToken is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(settings.BearerToken));
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: IsMetrics,
            path: null,
            configureBranchedPipeline: branch => branch.Use((context, next) =>
            {
                if (Authorized(context.Request, adminKey, token))
                {
                    return next(context);
                }

                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway-metrics\"";
                return Task.CompletedTask;
            }),
            optionsName: null);
        return app;
    }

    private static bool IsMetrics(HttpContext context) => context.Request.Path == Path;

    private static bool Authorized(HttpRequest request, AdminKey adminKey, byte[]? token) =>
        BearerToken.TryRead(request, out var presented, out _)
        && (adminKey.RoleOf(presented) is not null
            || token is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), token));
}
