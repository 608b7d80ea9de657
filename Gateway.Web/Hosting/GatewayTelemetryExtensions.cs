using Gateway.Core.Audit;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Metrics: the <c>McpGateway</c> meter (tool calls by server, decision and outcome; their duration) is always there for
/// dotnet-counters; with <c>Telemetry:Otlp:Endpoint</c> set, it and ASP.NET Core's request metrics are exported over OTLP.
/// </summary>
internal static class GatewayTelemetryExtensions
{
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.Decorate<IAuditSink>((inner, sp) => new MeteredAuditSink(inner, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));

        if (configuration["Telemetry:Otlp:Endpoint"] is { Length: > 0 } endpoint)
        {
            services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(MeteredAuditSink.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
        }

        return services;
    }
}
