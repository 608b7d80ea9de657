using Gateway.Core.Audit;
using OpenTelemetry.Exporter;

namespace Gateway.Web.Hosting;

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
