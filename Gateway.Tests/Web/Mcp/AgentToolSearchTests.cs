using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// Search discovery per agent on <c>/mcp</c> (real gateway, a C# test upstream over HTTP): set in configuration or through
/// the API, the agent's <c>tools/list</c> is <c>search_tools</c> and <c>call_tool</c>; search finds its granted tools under
/// their gateway-wide names, and <c>call_tool</c> goes through the grant, policy and audit of the real tool.
/// </summary>
public sealed class AgentToolSearchTests
{
    private const string Key = "agent-search-key-0123456789";

    [Fact]
    public async Task AnAgentInSearchDiscovery_ListsTwoTools_FindsItsGrantedTools_AndCallToolIsAuditedAsTheRealTool()
    {
        var a = "as" + Guid.NewGuid().ToString("N")[..6];
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(a, urlA),
            Agent("finder", Key, $"{a}/add", $"{a}/echo"),
            new Dictionary<string, string?> { ["Gateway:Agents:finder:Discovery"] = "search" }));
        await gateway.WaitForToolAsync($"{a}__add");

        await using var client = await gateway.ConnectAsync(Key);
        Assert.Equal(["search_tools", "call_tool"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));

        var found = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = "add two numbers", ["limit"] = 3 }, cancellationToken: TestContext.Timeout);
        var names = found.StructuredContent!.Value.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal($"{a}__add", names[0]);
        var env = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = "environment variable of the server process" }, cancellationToken: TestContext.Timeout);
        Assert.DoesNotContain($"{a}__env", env.StructuredContent!.Value.GetRawText(), StringComparison.Ordinal);

        var sum = await client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = $"{a}__add", ["arguments"] = new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 } }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, sum.IsError);
        Assert.Contains("5", sum.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = $"{a}__env", ["arguments"] = new Dictionary<string, object?> { ["name"] = "PATH" } }, cancellationToken: TestContext.Timeout).AsTask());

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == $"{a}__add" && r.Server == a && r.Outcome == AuditOutcomes.Ok);
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == $"{a}__env" && r.Outcome == AuditOutcomes.Denied);
    }

    // call_tool's inner name goes on as the call's name (and into the audit): capped as a tools/call's own is; its
    // arguments with a key twice are the agent's mistake, -32602, not an internal error logged with its stack.
    [Theory]
    [InlineData(256, false, "Unknown tool")]
    [InlineData(257, false, "name is longer than 256 characters.")]
    [InlineData(8, true, "params name a member twice in one object.")]
    public async Task CallToolsNameAndArguments_AreBounded_AndAKeyTwiceIsInvalidParams(int nameLength, bool keyTwice, string expected)
    {
        var a = "ab" + Guid.NewGuid().ToString("N")[..6];
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(a, urlA),
            Agent("finder", Key, $"{a}/add"),
            new Dictionary<string, string?> { ["Gateway:Agents:finder:Discovery"] = "search" }));
        await gateway.WaitForToolAsync($"{a}__add");
        var session = await RawMcp.OpenSessionAsync(gateway.McpUri, Key);

        var name = keyTwice ? $"{a}__add" : new string('n', nameLength);
        var extra = keyTwice ? ",\"a\":3" : string.Empty;
        var body = """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"call_tool","arguments":{"name":"NAME","arguments":{"a":1,"b":2EXTRA}}}}"""
            .Replace("NAME", name, StringComparison.Ordinal).Replace("EXTRA", extra, StringComparison.Ordinal);
        using var response = await RawMcp.PostBodyAsync(gateway.McpUri, Key, session, body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);

        Assert.True((int)response.StatusCode < 500, text);
        Assert.True(text.Contains(expected, StringComparison.Ordinal), text);
        if (nameLength > 256 || keyTwice)
        {
            Assert.Contains("\"code\":-32602", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheApi_SetsAnAgentsDiscovery_RefusesAnUnknownMode_AndTheAgentsSessionIsToldItsListChanged()
    {
        var a = "at" + Guid.NewGuid().ToString("N")[..6];
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(Http(a, urlA));
        await gateway.WaitForToolAsync($"{a}__add");

        using (var bad = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "api-agent", grants = new[] { $"{a}/*" }, discovery = "everything" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
            Assert.Contains("'search'", errors.GetProperty("discovery")[0].GetString(), StringComparison.Ordinal);
        }

        string key;
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "api-agent", grants = new[] { $"{a}/*" }, discovery = "search" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Equal("search", body.GetProperty("agent").GetProperty("discovery").GetString());
            key = body.GetProperty("apiKey").GetString()!;
        }

        var changed = 0;
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = gateway.McpUri,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
            }),
            new McpClientOptions
            {
                ProtocolVersion = "2025-11-25",
                Handlers = new McpClientHandlers
                {
                    NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                    {
                        Interlocked.Increment(ref changed);
                        return ValueTask.CompletedTask;
                    })],
                },
            },
            cancellationToken: TestContext.Timeout);
        Assert.Equal(["search_tools", "call_tool"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));

        using (var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/api-agent", new { discovery = "list" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
            Assert.Equal("list", (await updated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("discovery").GetString());
        }

        await Eventually.TrueAsync(() => Volatile.Read(ref changed) > 0, "the agent's session was told its tools changed");
        Assert.Contains($"{a}__add", (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.AdminChange && r.Tool == "agent/api-agent" && r.Decision == "discovery");
    }
}
