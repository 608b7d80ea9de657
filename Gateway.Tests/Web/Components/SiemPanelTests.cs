using Bunit;
using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Web.Siem;
using Microsoft.Extensions.DependencyInjection;
using TestContext = Gateway.Tests.Support.TestContext;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The dashboard's SIEM panel over a real SQLite file: each sink's entries behind, who streams it, and its last error.
/// Without sinks it shows nothing (the dashboard tests render it so).
/// </summary>
public sealed class SiemPanelTests : ConsolePageTest
{
    public SiemPanelTests()
    {
        Services.AddSingleton(new GatewayInstance("aaaaaaaaaaaa"));
        Services.AddSingleton(new SiemSinks(
        [
            Sink("splunk", new SiemSinkOptions { Kind = SiemSinkKind.Https, Url = "https://splunk.example/" }),
            Sink("rsyslog", new SiemSinkOptions { Kind = SiemSinkKind.Syslog, Host = "siem.internal" }),
        ]));
    }

    private static SiemSink Sink(string name, SiemSinkOptions options) => new(name, options, null, null!);

    [Fact]
    public async Task Panel_ShowsEachSinksLag_StreamingInstance_AndLastError()
    {
        var audit = Services.GetRequiredService<BatchingAuditSink>();
        await audit.StartAsync(TestContext.Timeout);
        for (var i = 1; i <= 30; i++)
        {
            await audit.WriteAsync(AuditChainTests.Sample(i), TestContext.Timeout);
        }

        await audit.FlushAsync(TestContext.Timeout);
        var cursors = Services.GetRequiredService<ISiemCursorStore>();
        var now = DateTimeOffset.UtcNow;
        await cursors.TryLeaseAsync("splunk", "aaaaaaaaaaaa", 0, now, now.AddMinutes(1), TestContext.Timeout);
        await cursors.AdvanceAsync("splunk", "aaaaaaaaaaaa", 30, now, now.AddMinutes(1), TestContext.Timeout);
        await cursors.AdvanceCheckpointsAsync("splunk", "aaaaaaaaaaaa", 25, now, now.AddMinutes(1), TestContext.Timeout);
        await cursors.TryLeaseAsync("rsyslog", "bbbbbbbbbbbb", 0, now, now.AddMinutes(1), TestContext.Timeout);
        await cursors.AdvanceAsync("rsyslog", "bbbbbbbbbbbb", 12, now, now.AddMinutes(1), TestContext.Timeout);
        await cursors.RecordFailureAsync("rsyslog", "bbbbbbbbbbbb", "syslog siem.internal:6514: Connection refused", now, TestContext.Timeout);

        var cut = Render<Gateway.Web.Components.Pages.SiemPanel>();

        cut.WaitForAssertion(() =>
        {
            var splunk = cut.Find("tr.siem-sink[data-sink=splunk]");
            Assert.Equal("0", splunk.QuerySelector(".siem-behind")!.TextContent.Trim());
            Assert.Contains("this instance", splunk.TextContent, StringComparison.Ordinal);
            Assert.Equal("entry 25", splunk.QuerySelector(".siem-checkpoint")!.TextContent.Trim());
            var rsyslog = cut.Find("tr.siem-sink[data-sink=rsyslog]");
            Assert.Equal("18", rsyslog.QuerySelector(".siem-behind")!.TextContent.Trim());
            Assert.Contains("instance bbbbbbbbbbbb", rsyslog.TextContent, StringComparison.Ordinal);
            Assert.Equal("none yet", rsyslog.QuerySelector(".siem-checkpoint")!.TextContent.Trim());
            Assert.Contains("Connection refused", rsyslog.QuerySelector(".siem-error")!.TextContent, StringComparison.Ordinal);
        });
        await audit.StopAsync(TestContext.Timeout);
    }
}
