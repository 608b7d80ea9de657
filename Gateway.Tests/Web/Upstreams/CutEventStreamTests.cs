using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Mcp;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// A reverse proxy in front of an upstream cuts an idle event stream (a read timeout, 60 s in nginx by default). The MCP
/// C# SDK's client then asks for the session's standalone stream again, and the SDK's server refuses a second one with
/// HTTP 400 ("does not support multiple GET requests") although it still serves the session. The gateway took that 400
/// for a lost session: it reconnected (a bridge: ended it), cutting every call in flight, at each cut of the stream.
/// Now it asks the session first, and keeps it while it answers.
/// </summary>
public sealed class CutEventStreamTests : IDisposable
{
    private const string Key = "cut-stream-agent-key-0123456789";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));

    public CutEventStreamTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => TempFolders.DeleteQuietly(_directory);

    [Fact]
    public async Task TheSharedSession_WhoseStreamAProxyCut_ServesOn_ItsCallInFlightIsAnswered_AndItsListsAreStillRead()
    {
        var gate = new HeaderGate { CutStreamsAfter = TimeSpan.FromMilliseconds(300) };
        var (app, url) = await StartHttpAsync("cut", gate: gate);
        await using var _ = app;

        // The shared connection at 2025-11-25, so that it holds a session with a standalone stream (at 2026-07-28 it has none).
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("cut", url), Agent("agent", Key, "cut/*"), new Dictionary<string, string?> { ["Gateway:Upstreams:ProtocolVersion"] = "2025-11-25" }));
        await gateway.WaitForToolAsync("cut__wait_for_file");
        Assert.True(gateway.Upstreams.TryGet("cut", out var connection));
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");

        // A call in flight while the stream is cut and asked for again.
        var release = Path.Combine(_directory, "release");
        var call = agent.CallToolAsync("cut__wait_for_file", new Dictionary<string, object?> { ["path"] = release }, cancellationToken: TestContext.Timeout).AsTask();
        await Eventually.TrueAsync(() => connection.StreamLost || connection.Restarts > 0, "the refused stream was questioned", TimeSpan.FromSeconds(30));
        Assert.Equal(0, connection.Restarts);
        Assert.True(gate.Requests.Count(r => r.Method == "GET") >= 2, "the stream was asked for again after the cut");

        File.WriteAllText(release, "");
        var result = await call;
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(0, connection.Restarts);

        // Without the stream the upstream's list_changed cannot reach the gateway: its lists are re-read at each health check.
        await agent.CallToolAsync("cut__toggle_extra", cancellationToken: TestContext.Timeout);
        await Eventually.TrueAsync(async () => (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Any(t => t.Name == "cut__extra"), "the tool added upstream is listed", TimeSpan.FromSeconds(30));
        Assert.Equal(0, connection.Restarts);
    }

    [Fact]
    public async Task ASessionBridge_WhoseStreamAProxyCut_ServesOn_AndItsCallInFlightIsAnswered()
    {
        var gate = new HeaderGate { CutStreamsAfter = TimeSpan.FromMilliseconds(300) };
        var (app, url) = await StartHttpAsync("cut", gate: gate);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("cut", url), Agent("agent", Key, "cut/*")));
        await gateway.WaitForToolAsync("cut__wait_for_file");
        Assert.True(gateway.Upstreams.TryGet("cut", out var connection));
        var bridges = gateway.Services.GetRequiredService<SessionBridges>();

        // An agent that answers elicitation has an upstream session of its own (a bridge), with its own stream.
        await using var agent = await gateway.ConnectAsync(Key, options: GatewayHost.Elicitable());
        var release = Path.Combine(_directory, "release");
        var call = agent.CallToolAsync("cut__wait_for_file", new Dictionary<string, object?> { ["path"] = release }, cancellationToken: TestContext.Timeout).AsTask();
        await Eventually.TrueAsync(() => connection.DependentCount == 1, "the call's bridge is open", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => bridges.StreamQuestions == 1 || connection.DependentCount == 0, "the bridge's refused stream was questioned", TimeSpan.FromSeconds(30));
        Assert.Equal(1, connection.DependentCount);
        Assert.True(gate.Requests.Count(r => r.Method == "GET") >= 2, "the stream was asked for again after the cut");

        File.WriteAllText(release, "");
        var result = await call;
        Assert.NotEqual(true, result.IsError);
        Assert.Equal("found " + release, result.Content.OfType<TextContentBlock>().Single().Text);
        Assert.Equal(1, connection.DependentCount);
        Assert.Equal(0, bridges.Revivals);
    }

    [Fact]
    public async Task ASessionBridge_WithSubscriptions_WhoseStreamAProxyCut_IsOpenedAgain_AndUpdatesStillReachTheAgent()
    {
        var gate = new HeaderGate { CutStreamsAfter = TimeSpan.FromMilliseconds(300) };
        var (app, url) = await StartHttpAsync("cut", gate: gate);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("cut", url), Agent("agent", Key, "cut/*")));
        await gateway.WaitForToolAsync("cut__touch_subscribers");
        var bridges = gateway.Services.GetRequiredService<SessionBridges>();
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: GatewayHost.Hearing(NotificationMethods.ResourceUpdatedNotification, updates.Writer));

        // A subscription's updates travel on the upstream session's standalone stream: the session keeps serving without
        // it, but would hear no update again, so its bridge is opened again (with a stream) and subscribed again.
        await agent.SubscribeToResourceAsync("test://items/1", cancellationToken: TestContext.Timeout);
        await Eventually.TrueAsync(() => bridges.StreamQuestions >= 1, "the bridge's refused stream was questioned", TimeSpan.FromSeconds(30));
        gate.CutStreamsAfter = null;
        await Eventually.TrueAsync(() => bridges.Revivals >= 1, "the subscribed session's bridge is opened again", TimeSpan.FromSeconds(30));

        // A bridge opened before the cuts stopped may be cut and opened again once more: touched until an update arrives.
        await Eventually.TrueAsync(async () =>
        {
            await agent.CallToolAsync("cut__touch_subscribers", new Dictionary<string, object?> { ["uri"] = "test://items/1" }, cancellationToken: TestContext.Timeout);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                return await updates.Reader.ReadAsync(wait.Token) == "test://items/1";
            }
            catch (OperationCanceledException) when (!TestContext.Timeout.IsCancellationRequested)
            {
                return false;
            }
        }, "an update of the subscribed resource reaches the agent", TimeSpan.FromSeconds(30));
    }
}
