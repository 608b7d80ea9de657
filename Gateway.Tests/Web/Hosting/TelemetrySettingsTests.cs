using Gateway.Web.Hosting;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The <c>Telemetry</c> section is checked at start: a wrong value stops the gateway with a message naming the key.</summary>
public sealed class TelemetrySettingsTests
{
    private static TelemetrySettings Read(params (string Key, string Value)[] settings) =>
        TelemetrySettings.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("Telemetry:" + s.Key, (string?)s.Value))).Build());

    [Theory]
    [InlineData("Otlp:Endpoint", "not a url", "Telemetry:Otlp:Endpoint")]
    [InlineData("Otlp:Protocol", "http/json", "Telemetry:Otlp:Protocol")]
    [InlineData("Traces:SampleRatio", "1.5", "Telemetry:Traces:SampleRatio")]
    [InlineData("Metrics:MaxToolLabels", "10001", "Telemetry:Metrics:MaxToolLabels")]
    [InlineData("Prometheus:Url", "http://0.0.0.0:9464/metrics", "Telemetry:Prometheus:Url")]
    [InlineData("Prometheus:Url", "http://0.0.0.0:0", "Telemetry:Prometheus:Url")]
    [InlineData("Prometheus:BearerToken", "short", "Telemetry:Prometheus:BearerToken")]
    public void AWrongValue_IsRefused_WithItsKey(string key, string value, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read((key, value)));
        Assert.StartsWith(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_ExportNothing_SampleEverything_AndBoundToolLabels()
    {
        var settings = Read();
        Assert.Equal((null, OtlpExportProtocol.Grpc, 1.0, 200, false), (settings.OtlpEndpoint, settings.Protocol, settings.SampleRatio, settings.MaxToolLabels, settings.Prometheus.Enabled));
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, Read(("Otlp:Protocol", "http/protobuf")).Protocol);
        Assert.Equal(10_000, Read(("Metrics:MaxToolLabels", "10000")).MaxToolLabels);
    }
}
