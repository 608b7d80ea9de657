using Gateway.Core.Audit;
using Gateway.Core.Pipeline;
using Gateway.Web.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Metrics and traces. The <c>McpGateway</c> meter is always there (for dotnet-counters); with
/// <c>Telemetry:Otlp:Endpoint</c> set, metrics and traces are exported over OTLP, and with
/// <c>Telemetry:Prometheus:Enabled</c> the metrics are served on <c>/metrics</c> (see <see cref="GatewayMetricsEndpoint"/>).
/// </summary>
/// <remarks>
/// Traces (<see cref="GatewayTracing"/>): the gateway's <see cref="ToolCallTracing"/> spans, the MCP
/// SDK's (one server span per MCP request, whose parent is the agent's <c>_meta.traceparent</c>, and one client span per
/// request to an upstream, which carries the current context in <c>_meta.traceparent</c>), and ASP.NET Core's for the MCP
/// endpoint. An HTTP upstream also gets the W3C <c>traceparent</c> header: .NET's HttpClient propagates the current span
/// whether or not anybody records the HTTP call.
/// </remarks>
internal static class GatewayTelemetryExtensions
{
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = TelemetrySettings.Read(configuration);
        services.AddSingleton(settings);
        services.AddMetrics();
        services.AddSingleton<PipelineMeters>();
        services.AddHostedService<UpstreamHealthGauge>();
        services.Decorate<IAuditSink>((inner, sp) => new MeteredAuditSink(inner, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), settings.MaxToolLabels));

        if (settings.OtlpEndpoint is null && !settings.Prometheus.Enabled)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("mcp-gateway"));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(MeteredAuditSink.MeterName).AddAspNetCoreInstrumentation();
            if (settings.OtlpEndpoint is { } endpoint)
            {
                metrics.AddOtlpExporter(o => settings.Configure(o, endpoint, "v1/metrics"));
            }

            if (settings.Prometheus.Enabled)
            {
                metrics.AddPrometheusExporter();
            }
        });

        if (settings.OtlpEndpoint is { } traceEndpoint)
        {
            telemetry.WithTracing(tracing => tracing
                .AddGatewaySources(settings.SampleRatio)
                .AddOtlpExporter(o => settings.Configure(o, traceEndpoint, "v1/traces")));
        }

        return services;
    }
}
