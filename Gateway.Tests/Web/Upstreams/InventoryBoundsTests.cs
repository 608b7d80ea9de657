using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream decides how many pages its lists take: one whose tools list never ends (a next cursor on every page,
/// from a hand-written HTTP upstream) fails the connection with the reason after the bound, instead of being read for
/// ever into the gateway's memory.
/// </summary>
public sealed class InventoryBoundsTests
{
    [Fact]
    public async Task AToolListWithoutEnd_FailsTheConnectionWithTheReason()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        upstream.EndlessToolPages = true;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("endless", url), Agent("agent", "endless-agent-key-0123456789", "endless/*")));

        await Eventually.TrueAsync(
            () => gateway.Upstreams.TryGet("endless", out var connection) && connection.LastError?.Contains($"past {UpstreamInventoryReader.MaxPages} pages", StringComparison.Ordinal) == true,
            "the connection failed on the endless list");
        Assert.True(gateway.Upstreams.TryGet("endless", out var endless));
        Assert.NotEqual(UpstreamState.Connected, endless.State);
        Assert.True(upstream.ToolLists >= UpstreamInventoryReader.MaxPages, $"{upstream.ToolLists} pages asked");
    }

    // Each page is within the server's message limit, but many pages of a few large entries are not: the four lists
    // together are read up to 32 MiB. 31 pages of a 1 MiB tool are served; 33 fail the connection with the reason.
    [Theory]
    [InlineData(31, true)]
    [InlineData(33, false)]
    public async Task ListsOfLargeEntries_AreReadUpToTheirByteBound_ThenFailTheConnectionWithTheReason(int pages, bool read)
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        (upstream.LargeToolPages, upstream.LargeToolBytes) = (pages, 1024 * 1024);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("large", url), Agent("agent", "large-agent-key-0123456789", "large/*")));

        if (read)
        {
            await gateway.WaitForToolAsync("large__echo");
            Assert.True(gateway.Upstreams.TryGet("large", out var connection));
            Assert.Contains(connection.Tools, t => t.Name == "large31");
            return;
        }

        await Eventually.TrueAsync(
            () => gateway.Upstreams.TryGet("large", out var connection) && connection.LastError?.Contains("lists take more than 32 MiB", StringComparison.Ordinal) == true,
            "the connection failed on the lists' size");
        Assert.True(gateway.Upstreams.TryGet("large", out var large));
        Assert.NotEqual(UpstreamState.Connected, large.State);
        // Per reading, not in all: the connection is tried again after the failure, and that reading may have begun.
        Assert.True(upstream.MostLargeToolPagesInOneListing <= UpstreamInventoryReader.MaxBytes / upstream.LargeToolBytes + 1, $"{upstream.MostLargeToolPagesInOneListing} pages asked in one reading");
    }

    // A tool name past the specification's 128 characters is left out (agents never see it, and the gateway's pins,
    // named up to 256 characters, never meet it); the server's other tools are served.
    [Fact]
    public async Task AToolWithAnOverlongName_IsLeftOut_AndTheOthersServed()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        var overlong = "tool_" + new string('x', 300);
        upstream.ExtraToolName = overlong;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("long", url), Agent("agent", "long-agent-key-0123456789", "long/*")));
        await gateway.WaitForToolAsync("long__echo");

        await using var agent = await gateway.ConnectAsync("long-agent-key-0123456789");
        var tools = (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).ToList();
        Assert.Contains("long__echo", tools);
        Assert.DoesNotContain(tools, t => t.Contains("tool_xxx", StringComparison.Ordinal));
        Assert.True(gateway.Upstreams.TryGet("long", out var connection));
        Assert.DoesNotContain(connection.Tools, t => t.Name == overlong);
    }
}
