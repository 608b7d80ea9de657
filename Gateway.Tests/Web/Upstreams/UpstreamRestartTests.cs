using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An HTTP upstream that restarts (a deploy) forgets the gateway's session. server-everything, like every server built
/// on the TypeScript SDK's example, then answers each request carrying the old <c>Mcp-Session-Id</c> with HTTP 400 and
/// a JSON-RPC error ("No valid session ID provided"), which the SDK's client reports like any answer: the health
/// probe took it for proof of life and every call failed until the gateway restarted. The gateway reconnects instead.
/// </summary>
public sealed class UpstreamRestartTests
{
    private const string Key = "restart-agent-key-0123456789";

    [Fact]
    public async Task AnUpstreamThatRestartedAndForgotTheSession_IsReconnected_AndCallsWorkAgain()
    {
        var first = await ServerEverything.StartHttpAsync();
        var port = new Uri(first.Url).Port;
        ServerEverything.HttpServerProcess? second = null;
        try
        {
            // No health probe during the test (the tests' default is every 0.5 s): one sent while the upstream is down
            // fails to connect and reconnects by itself. What is under test is a restart no probe saw, found by a call.
            var settings = Merge(Http("everything", first.Url), Agent("agent", Key, "everything/*"));
            settings["Gateway:Upstreams:HealthCheckInterval"] = "00:10:00";
            await using var gateway = await GatewayHost.StartAsync(settings);
            await gateway.WaitForToolAsync("everything__echo");
            await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");
            Assert.Equal("Echo: before", await EchoAsync(agent, "before"));
            Assert.True(gateway.Upstreams.TryGet("everything", out var connection));
            var restarts = connection.Restarts;

            // The upstream restarts on the same address; the agent's own session with the gateway goes on.
            first.Dispose();
            second = await ServerEverything.StartHttpAsync(port);

            // The first call after the restart may fail (it is what finds the session gone); calls work again once the
            // gateway has reconnected, well within the deadline (the reconnect waits RestartDelay, 1 s).
            string? answer = null;
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        answer = await EchoAsync(agent, "after");
                        return answer is not null;
                    }
                    catch (McpProtocolException)
                    {
                        return false;
                    }
                },
                "a call through the restarted upstream is answered",
                TimeSpan.FromSeconds(30));
            Assert.Equal("Echo: after", answer);
            Assert.True(connection.Restarts > restarts, "the gateway reconnected");
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    [Fact]
    public async Task AnAgentSessionsOwnUpstreamSession_RefusedAfterARestart_IsOpenedAgain()
    {
        var first = await ServerEverything.StartHttpAsync();
        var port = new Uri(first.Url).Port;
        ServerEverything.HttpServerProcess? second = null;
        try
        {
            var settings = Merge(Http("everything", first.Url), Agent("agent", Key, "everything/*"));
            settings["Gateway:Upstreams:HealthCheckInterval"] = "00:10:00";
            await using var gateway = await GatewayHost.StartAsync(settings);
            await gateway.WaitForToolAsync("everything__echo");

            // An agent that answers elicitation gets an upstream session of its own (a session bridge), so its calls do
            // not travel over the gateway's shared connection, whose reconnect the test above covers.
            await using var agent = await gateway.ConnectAsync(Key, options: GatewayHost.Elicitable());
            Assert.Equal("Echo: before", await EchoAsync(agent, "before"));
            Assert.True(gateway.Upstreams.TryGet("everything", out var connection));
            Assert.Equal(1, connection.DependentCount);

            first.Dispose();
            second = await ServerEverything.StartHttpAsync(port);

            // The restarted server answers the bridge's old session with HTTP 400, which leaves the SDK's client open:
            // before, every call of this agent session failed from then on, and the client's standalone stream asked
            // again without pause (thousands of requests a second). Now the first refusal (that stream's, as no call is
            // made) closes the bridge, and the next call opens a new one.
            await Eventually.TrueAsync(() => connection.DependentCount == 0, "the refused bridge is closed", TimeSpan.FromSeconds(30));
            string? answer = null;
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        answer = await EchoAsync(agent, "after");
                        return answer is not null;
                    }
                    catch (McpProtocolException)
                    {
                        return false;
                    }
                },
                "a call of the bridged session through the restarted upstream is answered",
                TimeSpan.FromSeconds(30));
            Assert.Equal("Echo: after", answer);
            Assert.Equal(1, connection.DependentCount);
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    [Fact]
    public async Task ASubscriptionThroughAnUpstreamThatRestarted_IsMadeAgain_AndUpdatesStillReachTheAgent()
    {
        var first = await ServerEverything.StartHttpAsync();
        var port = new Uri(first.Url).Port;
        ServerEverything.HttpServerProcess? second = null;
        try
        {
            await using var gateway = await GatewayHost.StartAsync(Merge(Http("everything", first.Url), Agent("agent", Key, "everything/*")));
            await gateway.WaitForToolAsync("everything__toggle-subscriber-updates");
            var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
            await using var agent = await gateway.ConnectAsync(Key, options: new ModelContextProtocol.Client.McpClientOptions
            {
                ProtocolVersion = "2025-11-25",
                Handlers = new ModelContextProtocol.Client.McpClientHandlers
                {
                    NotificationHandlers = [new(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
                    {
                        updates.Writer.TryWrite(n.Params?["uri"]?.GetValue<string>() ?? string.Empty);
                        return ValueTask.CompletedTask;
                    })],
                },
            });
            var resources = await agent.ListResourcesAsync(cancellationToken: TestContext.Timeout);
            var uri = resources.First(r => r.Uri.StartsWith("demo://resource/static/", StringComparison.Ordinal)).Uri;
            await agent.SubscribeToResourceAsync(uri, cancellationToken: TestContext.Timeout);

            // server-everything sends an update for each subscribed resource as soon as the session turns its updates on.
            await ToggleAsync(agent);
            Assert.Equal(uri, await updates.Reader.ReadAsync(TestContext.Timeout));

            first.Dispose();
            second = await ServerEverything.StartHttpAsync(port);
            // The gateway opens the session's upstream session again by itself, without waiting for a request of the
            // agent's (an agent that only listens for updates makes none), and subscribes it again.
            var bridges = gateway.Services.GetRequiredService<Gateway.Web.Mcp.SessionBridges>();
            await Eventually.TrueAsync(() => bridges.Revivals > 0, "the session's bridge is opened again", TimeSpan.FromSeconds(30));

            // The restarted server knows neither the old upstream session nor its subscription. The agent's session with
            // the gateway goes on: once calls work again, the session's new upstream session holds the subscription,
            // so turning updates on (the new session starts with them off) sends one at once.
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        return await ToggleAsync(agent);
                    }
                    catch (McpProtocolException)
                    {
                        return false;
                    }
                },
                "a call through the restarted upstream is answered",
                TimeSpan.FromSeconds(30));
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
            wait.CancelAfter(TimeSpan.FromSeconds(10));
            while (updates.Reader.TryRead(out _))
            {
                // Updates of the old session still under way when the server stopped are not what is under test.
            }

            await ToggleAsync(agent); // off
            await ToggleAsync(agent); // on again: the update is sent immediately
            try
            {
                Assert.Equal(uri, await updates.Reader.ReadAsync(wait.Token));
            }
            catch (OperationCanceledException) when (!TestContext.Timeout.IsCancellationRequested)
            {
                Assert.Fail("No resources/updated reached the agent within 10 s of turning updates on after the restart: the subscription was not made again.");
            }
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    private static async Task<bool> ToggleAsync(ModelContextProtocol.Client.McpClient agent)
    {
        var result = await agent.CallToolAsync("everything__toggle-subscriber-updates", cancellationToken: TestContext.Timeout);
        return result.IsError != true;
    }

    private static async Task<string?> EchoAsync(ModelContextProtocol.Client.McpClient agent, string message)
    {
        var result = await agent.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout);
        return result.IsError == true ? null : (result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text);
    }
}
