using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>One upstream that is down, hangs, answers garbage or crashes never breaks the others.</summary>
public sealed class IsolationTests
{
    private const string Key = "isolation-agent-key-0123";

    [Fact]
    public async Task DeadHangingAndGarbageUpstreams_FailAlone_TheHealthyOneKeepsWorking()
    {
        using var hanging = new TcpListener(IPAddress.Loopback, 0);
        hanging.Start(); // accepts connections (the kernel does) and never answers
        using var garbage = new GarbageServer();
        var deadPort = ServerEverything.FreePort();
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("healthy"),
            Http("dead", $"http://127.0.0.1:{deadPort}/mcp"),
            Http("hanging", $"http://127.0.0.1:{((IPEndPoint)hanging.LocalEndpoint).Port}/mcp"),
            Http("garbage", garbage.Url),
            new Dictionary<string, string?>
            {
                ["Gateway:Servers:hanging:ConnectTimeout"] = "1",
                ["Gateway:Servers:dead:ConnectTimeout"] = "1",
                ["Gateway:Servers:garbage:ConnectTimeout"] = "1",
            },
            Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync("healthy__echo");
        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.Connections.Where(c => c.Name != "healthy").All(c => c.State == UpstreamState.Failed && c.LastError is not null), TestContext.Timeout);

        await using var client = await gateway.ConnectAsync(Key);
        var names = (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).ToList();
        Assert.All(names, n => Assert.StartsWith("healthy__", n, StringComparison.Ordinal));
        var echo = await client.CallToolAsync("healthy__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("still here", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);

        var servers = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers", TestContext.Timeout);
        foreach (var server in servers.EnumerateArray().Where(s => s.GetProperty("name").GetString() != "healthy"))
        {
            // Failed, or already retrying with backoff; never connected.
            Assert.Contains(server.GetProperty("state").GetString(), new[] { "failed", "connecting" });
            Assert.False(string.IsNullOrWhiteSpace(server.GetProperty("lastError").GetString()));
        }
    }

    [Fact]
    public async Task UpstreamThatGoesDown_ToolsDisappear_CallsFailFastAsUnavailable_AndComeBack()
    {
        var name = "flaky" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        var port = new Uri(url).Port;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(name, url), Stdio("healthy"), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{name}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        await upstream.DisposeAsync();
        await gateway.WaitForToolGoneAsync($"{name}__echo");
        Assert.DoesNotContain((await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name), n => n.StartsWith(name, StringComparison.Ordinal));
        var down = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.True(down.IsError);
        Assert.StartsWith($"Server '{name}' is unavailable", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(down.Content)).Text, StringComparison.Ordinal);

        // Same port again: the supervisor reconnects and the tools come back.
        await using var again = await StartOnPortAsync(name, port);
        await gateway.WaitForToolAsync($"{name}__echo");
        var echo = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "back" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("back", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallThatHangs_FailsAtTheServersCallTimeout_AndTheUpstreamIsCancelled()
    {
        var name = "slow" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url),
            new Dictionary<string, string?> { [$"Gateway:Servers:{name}:CallTimeout"] = "1" },
            Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{name}__slow");
        await using var client = await gateway.ConnectAsync(Key);

        var watch = Stopwatch.StartNew();
        var result = await client.CallToolAsync(
            $"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 30_000 }, cancellationToken: TestContext.Timeout);
        Assert.True(result.IsError);
        Assert.Equal($"Server '{name}' did not answer within 1 s.", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the call waited for the upstream instead of timing out");
        await WaitAsync(() => CallLog.Count(name, "slow:cancelled") == 1);

        // The call outlived two health probes (0.5 s apart): they must not have torn the connection down.
        Assert.True(gateway.Upstreams.TryGet(name, out var connection));
        Assert.Equal(0, connection.Restarts);
    }

    [Fact]
    public async Task AnUpstreamThatKeepsWritingButAnswersNoProbe_IsFoundDown_WhenNoCallIsRunning()
    {
        // A stuck stdio server whose log messages keep coming: bytes arriving used to count as alive at every probe, so
        // it stayed "connected" for ever while every call to it waited out its timeout.
        await using var gateway = await GatewayHost.StartAsync(Merge(
            new Dictionary<string, string?>
            {
                ["Gateway:Servers:chatty:Transport"] = "stdio",
                ["Gateway:Servers:chatty:Command"] = "dotnet",
                ["Gateway:Servers:chatty:Args:0"] = TestUpstreamDll,
                ["Gateway:Servers:chatty:Args:1"] = "raw-stdio",
                ["Gateway:Servers:chatty:Args:2"] = "--chatter",
                ["Gateway:Servers:chatty:ConnectTimeout"] = "2",
            },
            Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync("chatty__echo");
        Assert.True(gateway.Upstreams.TryGet("chatty", out var connection));

        await Eventually.TrueAsync(() => connection.LastError?.Contains("did not answer a health probe", StringComparison.Ordinal) == true, "the chattering upstream is found down");
    }

    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartOnPortAsync(string name, int port)
    {
        // Rebind the same port: the gateway's configured URL does not change.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await Gateway.TestUpstream.Program.StartHttpAsync(name, sse: false, port);
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "condition not met within 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Accepts HTTP requests and answers with a 200 whose body is not JSON-RPC.</summary>
    private sealed class GarbageServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public GarbageServer()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    var buffer = new byte[8192];
                    await socket.ReceiveAsync(buffer, _stop.Token);
                    await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{not json at al"), _stop.Token);
                }
            });
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/mcp";

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
