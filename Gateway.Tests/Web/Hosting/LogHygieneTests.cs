using System.Collections.Concurrent;
using Gateway.Tests.Support;
using Gateway.Web.Hosting.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The console log of a real gateway process: refusals are one line, and agent strings cannot forge lines.</summary>
public sealed class LogHygieneTests
{
    private const string Key = "log-hygiene-agent-key-0123";

    [Fact]
    public async Task RefusedCalls_LogOneInformationLine_AndAgentStringsCannotForgeLogLines()
    {
        var settings = Merge(
            Stdio("files"),
            Agent("agent", Key, "files/echo"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:no-add:Effect"] = "block",
                ["Gateway:Policies:no-add:Tools:0"] = "echo",
                ["Gateway:Policies:no-add:Conditions:0:Path"] = "message",
                ["Gateway:Policies:no-add:Conditions:0:Op"] = "equals",
                ["Gateway:Policies:no-add:Conditions:0:Value"] = "blocked",
            });
        var lines = new ConcurrentQueue<string>();
        await using var gateway = await GatewayProcess.StartOnSqliteAsync(settings, lines.Enqueue);
        var (baseUri, admin) = (gateway.BaseUri, gateway.Admin);
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(baseUri, "/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
            }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" },
            cancellationToken: TestContext.Timeout);
        var before = lines.Count;

        // Unknown (and forging a line), not granted, blocked by policy.
        const string Forged = "nope\nfail: Gateway.Security[0] forged entry";
        // Raw, since the SDK client will not put a newline into a header it derives from the name.
        using (var raw = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "/mcp")))
        {
            raw.Headers.Authorization = new("Bearer", Key);
            raw.Headers.Add("Mcp-Session-Id", client.SessionId);
            raw.Headers.Add("MCP-Protocol-Version", "2025-11-25");
            raw.Headers.Accept.ParseAdd("application/json");
            raw.Headers.Accept.ParseAdd("text/event-stream");
            raw.Content = new StringContent(
                System.Text.Json.JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 99, method = "tools/call", @params = new { name = Forged } }),
                System.Text.Encoding.UTF8,
                "application/json");
            using var response = await admin.SendAsync(raw, TestContext.Timeout);
            Assert.Contains("-32602", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("files__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask());
        var blocked = await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "blocked" }, cancellationToken: TestContext.Timeout);
        Assert.True(blocked.IsError);

        await Eventually.TrueAsync(() => lines.Skip(before).Count(l => l.Contains("Refused tools/call", StringComparison.Ordinal)) == 3, "three refusal lines");
        var logged = lines.Skip(before).ToList();
        var refusals = logged.Where(l => l.Contains("Refused tools/call", StringComparison.Ordinal)).ToList();
        Assert.All(refusals, l => Assert.StartsWith("info: Gateway.Web.Mcp.GatewayMcpHandlers[", l, StringComparison.Ordinal));
        Assert.Contains(refusals, l => l.Contains("'nope\\nfail: Gateway.Security[0] forged entry'", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, l => l.StartsWith("fail: Gateway.Security", StringComparison.Ordinal));

        // No warning, error or stack trace for any of them.
        Assert.DoesNotContain(logged, l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("tab\there\r", "tab\\there\\r")]
    [InlineData("esc\u001b[31mred", "esc\\u001b[31mred")]
    [InlineData("bidi\u202Eevil", "bidi\\u202eevil")]
    [InlineData("line\u2028sep", "line\\u2028sep")]
    [InlineData("back\\nslash", "back\\\\nslash")]
    [InlineData("plain ünïcödé ✓", "plain ünïcödé ✓")]
    public void Messages_AreEscaped(string message, string expected)
    {
        var builder = new System.Text.StringBuilder();
        EscapingConsoleFormatter.AppendEscaped(builder, message);
        Assert.Equal(expected, builder.ToString());
    }

    [Fact]
    public void LongMessages_AreCutAtTheLimit_SayingHowMuchWasLeftOut()
    {
        var builder = new System.Text.StringBuilder();
        EscapingConsoleFormatter.AppendEscaped(builder, new string('x', EscapingConsoleFormatter.MaxMessageChars + 10));
        Assert.Equal(new string('x', EscapingConsoleFormatter.MaxMessageChars) + "…(10 more characters)", builder.ToString());
    }
}
