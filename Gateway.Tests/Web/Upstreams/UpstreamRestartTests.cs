using Gateway.Tests.Support;
using Gateway.Web.Mcp;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An HTTP upstream that restarts (a deploy) forgets the gateway's sessions. server-everything, like every server built
/// on the TypeScript SDK's example, then answers each request carrying an old <c>Mcp-Session-Id</c> with HTTP 400 and
/// a JSON-RPC error ("No valid session ID provided"), which the SDK's client reports like any answer: the health
/// probe took it for proof of life and every call failed until the gateway restarted. The gateway reconnects instead,
/// and opens the agent sessions' own upstream sessions (bridges) again, with their subscriptions.
/// </summary>
public sealed class UpstreamRestartTests
{
    private const string Key = "restart-agent-key-0123456789";

    [Fact]
    public async Task AnUpstreamThatRestartedAndForgotTheSession_IsReconnected_AndCallsWorkAgain()
    {
        using var upstream = await RestartableEverything.StartAsync();

        // No health probe during the test (the tests' default is every 0.5 s): one sent while the upstream is down
        // fails to connect and reconnects by itself. What is under test is a restart no probe saw, found by a call.
        await using var gateway = await GatewayHost.StartAsync(WithoutProbes(upstream));
        await gateway.WaitForToolAsync("everything__echo");
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");
        Assert.Equal("Echo: before", await EchoAsync(agent, "before"));
        Assert.True(gateway.Upstreams.TryGet("everything", out var connection));
        var restarts = connection.Restarts;

        // The upstream restarts on the same address; the agent's own session with the gateway goes on. The first call
        // after it may fail (it is what finds the session gone); calls work again once the gateway has reconnected.
        await upstream.RestartAsync();
        await UntilAnsweredAsync(async () => await EchoAsync(agent, "after") == "Echo: after", "a call through the restarted upstream is answered");
        Assert.True(connection.Restarts > restarts, "the gateway reconnected");
    }

    [Fact]
    public async Task AnAgentSessionsOwnUpstreamSession_RefusedAfterARestart_IsOpenedAgain()
    {
        using var upstream = await RestartableEverything.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(WithoutProbes(upstream));
        await gateway.WaitForToolAsync("everything__echo");

        // An agent that answers elicitation gets an upstream session of its own (a session bridge), so its calls do
        // not travel over the gateway's shared connection, whose reconnect the test above covers.
        await using var agent = await gateway.ConnectAsync(Key, options: GatewayHost.Elicitable());
        Assert.Equal("Echo: before", await EchoAsync(agent, "before"));
        Assert.True(gateway.Upstreams.TryGet("everything", out var connection));
        Assert.Equal(1, connection.DependentCount);

        // The restarted server answers the bridge's old session with HTTP 400, which leaves the SDK's client open:
        // before, every call of this agent session failed from then on, and the client's standalone stream asked
        // again without pause (thousands of requests a second). Now the first refusal (that stream's, as no call is
        // made) closes the bridge, and the next call opens a new one.
        await upstream.RestartAsync();
        await Eventually.TrueAsync(() => connection.DependentCount == 0, "the refused bridge is closed", TimeSpan.FromSeconds(30));
        await UntilAnsweredAsync(async () => await EchoAsync(agent, "after") == "Echo: after", "a call of the bridged session through the restarted upstream is answered");
        Assert.Equal(1, connection.DependentCount);
    }

    [Fact]
    public async Task ASubscriptionThroughAnUpstreamThatRestarted_IsMadeAgain_AndUpdatesStillReachTheAgent()
    {
        using var upstream = await RestartableEverything.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("everything", upstream.Url), Agent("agent", Key, "everything/*")));
        await gateway.WaitForToolAsync("everything__toggle-subscriber-updates");
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: GatewayHost.Hearing(NotificationMethods.ResourceUpdatedNotification, updates.Writer));
        var resources = await agent.ListResourcesAsync(cancellationToken: TestContext.Timeout);
        var uri = resources.First(r => r.Uri.StartsWith("demo://resource/static/", StringComparison.Ordinal)).Uri;
        await agent.SubscribeToResourceAsync(uri, cancellationToken: TestContext.Timeout);

        // server-everything sends an update for each subscribed resource as soon as the session turns its updates on.
        await ToggleAsync(agent);
        Assert.Equal(uri, await updates.Reader.ReadAsync(TestContext.Timeout));

        // The gateway opens the session's upstream session again by itself, without waiting for a request of the
        // agent's (an agent that only listens for updates makes none), and subscribes it again.
        await upstream.RestartAsync();
        var bridges = gateway.Services.GetRequiredService<SessionBridges>();
        await Eventually.TrueAsync(() => bridges.Revivals > 0, "the session's bridge is opened again", TimeSpan.FromSeconds(30));

        // The restarted server knew neither the old upstream session nor its subscription; the new upstream session
        // holds it, so turning updates on (a new session starts with them off) sends one at once.
        await UntilAnsweredAsync(() => ToggleAsync(agent), "a call through the restarted upstream is answered");
        while (updates.Reader.TryRead(out _))
        {
            // What arrived so far is not what is under test: only what the next turn-on sends.
        }

        await ToggleAsync(agent); // off
        await ToggleAsync(agent); // on again: the update is sent immediately
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        wait.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            Assert.Equal(uri, await updates.Reader.ReadAsync(wait.Token));
        }
        catch (OperationCanceledException) when (!TestContext.Timeout.IsCancellationRequested)
        {
            Assert.Fail("No resources/updated reached the agent within 10 s of turning updates on after the restart: the subscription was not made again.");
        }
    }

    private static Dictionary<string, string?> WithoutProbes(RestartableEverything upstream)
    {
        var settings = Merge(Http("everything", upstream.Url), Agent("agent", Key, "everything/*"));
        settings["Gateway:Upstreams:HealthCheckInterval"] = "00:10:00";
        return settings;
    }

    /// <summary>Polls <paramref name="call"/> (an agent's request through the gateway) until it is answered as expected; a refused one is tried again.</summary>
    private static Task UntilAnsweredAsync(Func<Task<bool>> call, string what) =>
        Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return await call();
                }
                catch (McpProtocolException)
                {
                    return false;
                }
            },
            what,
            TimeSpan.FromSeconds(30));

    private static async Task<bool> ToggleAsync(McpClient agent)
    {
        var result = await agent.CallToolAsync("everything__toggle-subscriber-updates", cancellationToken: TestContext.Timeout);
        return result.IsError != true;
    }

    private static async Task<string?> EchoAsync(McpClient agent, string message)
    {
        var result = await agent.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout);
        return result.IsError == true ? null : (result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text);
    }

    /// <summary>server-everything over HTTP that a test can restart on the same port.</summary>
    private sealed class RestartableEverything : IDisposable
    {
        private ServerEverything.HttpServerProcess _current;

        private RestartableEverything(ServerEverything.HttpServerProcess first) => _current = first;

        public string Url => _current.Url;

        public static async Task<RestartableEverything> StartAsync() => new(await ServerEverything.StartHttpAsync());

        /// <summary>Stops the server and starts a new one on the same port (it knows none of the old one's sessions).</summary>
        public async Task RestartAsync()
        {
            var port = new Uri(_current.Url).Port;
            _current.Dispose();
            _current = await ServerEverything.StartHttpAsync(port);
        }

        public void Dispose() => _current.Dispose();
    }
}
