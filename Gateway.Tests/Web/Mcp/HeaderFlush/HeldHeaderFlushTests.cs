using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.HeaderFlush;

/// <summary>
/// A 2025-11-25 call's answer leaves in one send, headers with the event, when it comes within
/// <c>Gateway:Mcp:ResponseHeaderHold</c>; a longer call still gets its headers when the hold ends.
/// </summary>
public sealed class HeldHeaderFlushTests
{
    private const string Key = "held-header-agent-key-01";

    [Theory]
    [InlineData("00:00:30", true)]
    [InlineData("00:00:00", false)]
    public async Task TheFirstBytesOfAnAnswer_CarryItsEvent_WhenTheCallEndsWithinTheHold(string hold, bool together)
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("agent", Key, "files/*"), new Dictionary<string, string?>
        {
            ["Gateway:Mcp:ResponseHeaderHold"] = hold,
        }));
        await gateway.WaitForToolAsync("files__slow");
        var session = await OpenSessionAsync(gateway);

        // A call of 1 s: without the hold its headers go out at once and its event a second later, so the first read
        // sees the headers alone; with it (and a hold longer than the call) the first read has both.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.McpUri.Port), TestContext.Timeout);
        var body = Call("files__slow", new JsonObject { ["milliseconds"] = 1000 });
        var request = $"POST /mcp HTTP/1.1\r\nHost: {gateway.McpUri.Authority}\r\nAuthorization: Bearer {Key}\r\n" +
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n" +
            $"Mcp-Session-Id: {session}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), TestContext.Timeout);

        var buffer = new byte[64 * 1024];
        var first = Encoding.UTF8.GetString(buffer, 0, await socket.ReceiveAsync(buffer, TestContext.Timeout));
        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.Contains("text/event-stream", first, StringComparison.Ordinal);
        Assert.Equal(together, first.Contains("slept 1000 ms", StringComparison.Ordinal));

        // Either way the whole answer arrives.
        var all = new StringBuilder(first);
        while (!all.ToString().Contains("slept 1000 ms", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, TestContext.Timeout);
            Assert.True(read > 0, "the connection closed before the answer");
            all.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    [Fact]
    public async Task AHoldOverThirtySeconds_StopsTheStart_NamingTheSetting()
    {
        // 30 s (the theory above) starts; one second more does not.
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            GatewayHost.StartAsync(Merge(Agent("agent", Key, "files/*"), new Dictionary<string, string?> { ["Gateway:Mcp:ResponseHeaderHold"] = "00:00:31" })));
        Assert.Contains("Gateway:Mcp:ResponseHeaderHold must be between 0 and 30 seconds", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongerCall_GetsItsHeadersWhenTheHoldEnds_BeforeItsAnswer()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("agent", Key, "files/*")));
            await gateway.WaitForToolAsync("files__wait_for_file");
            var session = await OpenSessionAsync(gateway);

            // The upstream answers only once the test writes the file, so headers seen before that came from the hold's end
            // (250 ms by default), not with the answer.
            var release = Path.Combine(directory, "release");
            using var http = new HttpClient();
            using var request = Post(gateway, session, Call("files__wait_for_file", new JsonObject { ["path"] = release }));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.False(File.Exists(release));

            await File.WriteAllTextAsync(release, "go", TestContext.Timeout);
            var answer = await response.Content.ReadAsStringAsync(TestContext.Timeout);
            Assert.Contains("found " + release, answer, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> OpenSessionAsync(GatewayHost gateway)
    {
        using var http = new HttpClient();
        var initialize = new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "initialize",
            ["params"] = new JsonObject { ["protocolVersion"] = "2025-11-25", ["capabilities"] = new JsonObject(), ["clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" } },
        }.ToJsonString();
        using var initializeRequest = Post(gateway, null, initialize);
        using var opened = await http.SendAsync(initializeRequest, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        var session = opened.Headers.GetValues("Mcp-Session-Id").Single();
        using var initializedRequest = Post(gateway, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        using var initialized = await http.SendAsync(initializedRequest, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private static string Call(string tool, JsonObject arguments) => new JsonObject
    {
        ["jsonrpc"] = "2.0", ["id"] = 2, ["method"] = "tools/call",
        ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = arguments },
    }.ToJsonString();

    private static HttpRequestMessage Post(GatewayHost gateway, string? session, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", Key);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
        }

        return request;
    }
}
