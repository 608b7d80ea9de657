using Gateway.TestUpstream;
using Gateway.Tests.Support;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream's <c>notifications/tools/list_changed</c> is a rate the upstream controls (some servers send one after
/// every call). Each used to queue a turn of the upstream's watch: a health probe per notification, and the lists read
/// again back to back for as long as they came.
/// </summary>
public sealed class ListChangedFloodTests
{
    private const string Key = "flood-agent-key-0123456789";

    [Fact]
    public async Task AThousandListChanged_AreReadAtAPace_AndSendNoProbe()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: true);
        await using var running = app;
        var settings = Merge(Http("raw", url), Agent("agent", Key, "raw/*"));
        settings["Gateway:Upstreams:HealthCheckInterval"] = "00:10:00"; // only what the notifications cause is counted
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitForToolAsync("raw__list_changed");
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");
        var (lists, pings) = (upstream.ToolLists, upstream.Pings);

        var result = await agent.CallToolAsync("raw__list_changed", new Dictionary<string, object?> { ["count"] = 1000 }, cancellationToken: TestContext.Timeout);
        Assert.Equal("sent 1000", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await Eventually.TrueAsync(() => upstream.ToolLists > lists, "the lists are read again");

        // A measuring window, not a wait for something to happen: over it the spacing allows a few re-reads at most
        // (one per ListRereadSpacing); before, each notification queued a probe.
        var window = TimeSpan.FromSeconds(3);
        await Task.Delay(window, TestContext.Timeout);
        var rereads = upstream.ToolLists - lists;
        Assert.True(rereads <= 2 + (int)(window / UpstreamConnection.ListRereadSpacing), $"{rereads} re-reads of the lists");
        Assert.True(upstream.Pings - pings <= 1, $"{upstream.Pings - pings} probes for list_changed notifications");
    }
}
