using Gateway.Core.Siem;
using Gateway.Web.Siem;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Web.Siem;

/// <summary><c>Gateway:Siem</c> is checked at start: every error named at once, limits accepted at their edge and refused past it.</summary>
public sealed class SiemConfigurationTests
{
    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static string Errors(Dictionary<string, string?> values) =>
        Assert.Throws<InvalidOperationException>(() => SiemConfiguration.Read(Config(values))).Message;

    [Fact]
    public void NoSinks_IsValid_AndStreamsNothing()
    {
        var (options, sinks) = SiemConfiguration.Read(Config([]));
        Assert.Empty(sinks);
        Assert.Equal(TimeSpan.FromSeconds(30), options.LeaseDuration);
    }

    [Fact]
    public void ValidSinks_AreRead_WithTheirSecretsResolved()
    {
        var secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, "from-a-file\r\n");
        Environment.SetEnvironmentVariable("GW_TEST_SIEM_TOKEN", "from-the-environment");
        try
        {
            var (_, sinks) = SiemConfiguration.Read(Config(new()
            {
                ["Gateway:Siem:Sinks:hec:Kind"] = "https",
                ["Gateway:Siem:Sinks:hec:Url"] = "https://splunk.example:8088/services/collector/event",
                ["Gateway:Siem:Sinks:hec:Format"] = "splunkHec",
                ["Gateway:Siem:Sinks:hec:Secret"] = "env:GW_TEST_SIEM_TOKEN",
                ["Gateway:Siem:Sinks:hook:Kind"] = "https",
                ["Gateway:Siem:Sinks:hook:Url"] = "https://hooks.example/ocsf",
                ["Gateway:Siem:Sinks:hook:Secret"] = "file:" + secretFile,
                ["Gateway:Siem:Sinks:hook:BatchSize"] = "10000",
                ["Gateway:Siem:Sinks:hook:MaxBatchBytes"] = "16777216",
                ["Gateway:Siem:Sinks:rsyslog:Kind"] = "syslog",
                ["Gateway:Siem:Sinks:rsyslog:Host"] = "siem.internal",
                ["Gateway:Siem:Sinks:rsyslog:BatchSize"] = "1",
                ["Gateway:Siem:Sinks:rsyslog:MaxBatchBytes"] = "4096",
                ["Gateway:Siem:Sinks:rsyslog:PinnedCertificateSha256"] = string.Join(':', Enumerable.Repeat("AB", 32)),
            }));

            Assert.Equal(["hec", "hook", "rsyslog"], sinks.Select(s => s.Name).Order());
            Assert.Equal("from-the-environment", sinks.Single(s => s.Name == "hec").Secret);
            Assert.Equal(HttpBatchFormat.SplunkHec, sinks.Single(s => s.Name == "hec").Options.Format);
            Assert.Equal("from-a-file", sinks.Single(s => s.Name == "hook").Secret);
            Assert.Equal(6514, sinks.Single(s => s.Name == "rsyslog").Options.Port);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GW_TEST_SIEM_TOKEN", null);
            File.Delete(secretFile);
        }
    }

    [Fact]
    public void InvalidSinks_StopTheStart_WithEveryErrorNamed()
    {
        var message = Errors(new()
        {
            ["Gateway:Siem:Sinks:plain:Kind"] = "https",
            ["Gateway:Siem:Sinks:plain:Url"] = "http://collector.example/",
            ["Gateway:Siem:Sinks:plain:BatchSize"] = "10001",
            ["Gateway:Siem:Sinks:hec:Kind"] = "https",
            ["Gateway:Siem:Sinks:hec:Url"] = "https://splunk.example/",
            ["Gateway:Siem:Sinks:hec:Format"] = "splunkHec",
            ["Gateway:Siem:Sinks:hec:MaxBatchBytes"] = "4095",
            ["Gateway:Siem:Sinks:sys:Kind"] = "syslog",
            ["Gateway:Siem:Sinks:sys:Port"] = "65536",
            ["Gateway:Siem:Sinks:sys:BatchSize"] = "0",
            ["Gateway:Siem:Sinks:sys:Secret"] = "env:GW_TEST_SIEM_UNSET",
            ["Gateway:Siem:Sinks:sys:CaCertificatePath"] = "/nonexistent/ca.pem",
            ["Gateway:Siem:Sinks:sys:Timeout"] = "00:00:11",
            ["Gateway:Siem:Sinks:pin:Kind"] = "syslog",
            ["Gateway:Siem:Sinks:pin:Host"] = "h",
            ["Gateway:Siem:Sinks:pin:PinnedCertificateSha256"] = "abc",
            ["Gateway:Siem:Sinks:bad name:Kind"] = "syslog",
            ["Gateway:Siem:Sinks:bad name:Host"] = "h",
        });

        Assert.Contains("Gateway:Siem:Sinks:plain:Url must be an absolute https URL", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:plain:BatchSize must be between 1 and 10000", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:hec:Secret (the HEC token) is required", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:hec:MaxBatchBytes must be between 4096 and 16777216", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:sys:Host is required", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:sys:Port must be between 1 and 65535", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:sys:BatchSize must be between 1 and 10000", message, StringComparison.Ordinal);
        Assert.Contains("environment variable GW_TEST_SIEM_UNSET, which is not set", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:sys:CaCertificatePath /nonexistent/ca.pem cannot be read", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:sys:Timeout must be between", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:pin:PinnedCertificateSha256 must be 64 hex digits", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Siem:Sinks:bad name: a sink's name is 1 to 64", message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKind_IsNamed()
    {
        var message = Errors(new() { ["Gateway:Siem:Sinks:x:Kind"] = "kafka" });
        Assert.Contains("Kind is https or syslog", message, StringComparison.Ordinal);
    }

    [Fact]
    public void SecretFile_LargerThanTheLimit_IsRefused()
    {
        var secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, new string('s', SiemConfiguration.MaxSecretFileBytes + 1));
        try
        {
            var message = Errors(new()
            {
                ["Gateway:Siem:Sinks:hook:Kind"] = "https",
                ["Gateway:Siem:Sinks:hook:Url"] = "https://hooks.example/",
                ["Gateway:Siem:Sinks:hook:Secret"] = "file:" + secretFile,
            });
            Assert.Contains($"larger than {SiemConfiguration.MaxSecretFileBytes} bytes", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(secretFile);
        }
    }
}
