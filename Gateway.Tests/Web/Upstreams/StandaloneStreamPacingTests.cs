using Gateway.TestUpstream;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// The MCP SDK's client reopens an upstream's standalone event stream (a GET) when it ends. Once that stream has carried
/// an event id, a failed reopening (an error status, or no connection) is tried again without any pause: the client
/// subtracts the time since the stream ended from its reconnection interval. An upstream behind a proxy that answers
/// 503 during a deploy then got thousands of requests a second from the gateway, for as long as the deploy lasted.
/// The gateway paces those GETs itself.
/// </summary>
public sealed class StandaloneStreamPacingTests
{
    private const string Key = "pacing-agent-key-0123456789";

    [Theory]
    [InlineData(503)]
    [InlineData(403)]
    public async Task AStandaloneStreamThatCannotBeReopened_IsAskedForAgainAtAPace_NotInALoop(int status)
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false, failStandaloneWith: status);
        await using var running = app;
        var settings = Merge(Http("raw", url), Agent("agent", Key, "raw/*"));
        settings["Gateway:Upstreams:RestartDelay"] = "00:00:01";
        settings["Gateway:Upstreams:MaxRestartDelay"] = "00:00:02";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitForToolAsync("raw__echo");

        // The first reopening fails about a second after the stream ended (the client's reconnection interval).
        await Eventually.TrueAsync(() => upstream.StandaloneGets >= 2, "the standalone stream is asked for again", TimeSpan.FromSeconds(30));
        var before = upstream.StandaloneGets;

        // A measuring window, not a wait for something to happen: over it the pacing (1 s, then 2 s) allows about two
        // more requests; without it there were 60,000-90,000.
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Timeout);
        var more = upstream.StandaloneGets - before;
        Assert.True(more <= 3, $"{more} requests for the standalone stream in 4 s after it failed");

        // The upstream still serves calls meanwhile: only the standalone stream waits.
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");
        var result = await agent.CallToolAsync("raw__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
    }
}
