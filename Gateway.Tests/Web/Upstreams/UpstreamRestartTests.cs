using Gateway.Tests.Support;
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
            // before, every call of this agent session failed from then on. Now the refusal retires the bridge and the
            // next call opens a new one.
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
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
        }
    }

    private static async Task<string?> EchoAsync(ModelContextProtocol.Client.McpClient agent, string message)
    {
        var result = await agent.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout);
        return result.IsError == true ? null : (result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text);
    }
}
