using Gateway.Core.Audit;
using Gateway.Core.Pipeline;
using Gateway.Web.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
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

/// <summary>The <c>Telemetry</c> section, read and checked once at start.</summary>
internal sealed record TelemetrySettings(Uri? OtlpEndpoint, OtlpExportProtocol Protocol, string? Headers, double SampleRatio, int MaxToolLabels, PrometheusSettings Prometheus)
{
    public static TelemetrySettings Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Telemetry");
        Uri? endpoint = null;
        if (section["Otlp:Endpoint"] is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out endpoint))
        {
            throw new InvalidOperationException($"Telemetry:Otlp:Endpoint must be an absolute URL, not '{url}'.");
        }

        var protocol = section["Otlp:Protocol"] switch
        {
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException($"Telemetry:Otlp:Protocol must be 'grpc' or 'http/protobuf', not '{other}'."),
        };
        var ratio = section.GetValue("Traces:SampleRatio", 1.0);
        if (ratio is < 0 or > 1)
        {
            throw new InvalidOperationException($"Telemetry:Traces:SampleRatio must be between 0 and 1, not {ratio}.");
        }

        var maxTools = section.GetValue("Metrics:MaxToolLabels", MeteredAuditSink.DefaultMaxToolLabels);
        if (maxTools is < 0 or > 10_000)
        {
            throw new InvalidOperationException($"Telemetry:Metrics:MaxToolLabels must be between 0 and 10000, not {maxTools}.");
        }

        return new TelemetrySettings(endpoint, protocol, section["Otlp:Headers"], ratio, maxTools, PrometheusSettings.Read(section.GetSection("Prometheus")));
    }

    /// <summary>
    /// Points an OTLP exporter at the collector. Over HTTP the endpoint is the collector's base URL and the signal's path
    /// is appended (as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> does; the exporter itself uses a URL set in code as is).
    /// </summary>
    public void Configure(OtlpExporterOptions options, Uri endpoint, string signalPath)
    {
        options.Protocol = Protocol;
        options.Endpoint = Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
        if (Headers is not null)
        {
            options.Headers = Headers;
        }
    }
}
