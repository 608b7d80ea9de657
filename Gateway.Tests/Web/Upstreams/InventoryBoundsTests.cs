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
}
