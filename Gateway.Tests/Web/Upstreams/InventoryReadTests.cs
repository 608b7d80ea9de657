using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream's four lists (tools, prompts, resources, resource templates) are asked for together: a connection waits
/// one round trip for them, not four, at the start, at each reconnection and at each refresh. The hand-written upstream
/// here answers none of its lists until all four have been asked for, and answers each with an error after 5 s.
/// </summary>
public sealed class InventoryReadTests
{
    [Fact]
    public async Task TheFourLists_AreAskedForTogether()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        upstream.ListsTogether = true;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("lists", url), Agent("agent", "lists-agent-key-0123456789", "lists/*")));

        // Read one by one, the first list's error fails the connection (and every attempt after it).
        await Eventually.TrueAsync(
            () => gateway.Upstreams.TryGet("lists", out var connection) && (connection.State == UpstreamState.Connected || connection.LastError is not null),
            "the connection was made or failed");
        Assert.True(gateway.Upstreams.TryGet("lists", out var lists));
        Assert.Null(lists.LastError);
        Assert.Equal(UpstreamState.Connected, lists.State);
        Assert.Contains(lists.Inventory.Tools, t => t.Name == "echo");
        Assert.Equal("greeting", Assert.Single(lists.Inventory.Prompts).Name);
        Assert.Equal("test://one", Assert.Single(lists.Inventory.Resources).Uri);
        Assert.Equal("test://{n}", Assert.Single(lists.Inventory.ResourceTemplates).UriTemplate);
    }
}
