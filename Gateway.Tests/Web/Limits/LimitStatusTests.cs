using System.Net;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Limits;

/// <summary>
/// A tools/call refused by a window limit gets HTTP 429 with Retry-After and the JSON-RPC error as its body, on both
/// protocol revisions, and is audited as denied as before; other requests of the agent are answered as usual.
/// </summary>
public sealed class LimitStatusTests
{
    private const string Key = "status-key-0123456789";

    [Fact]
    public async Task APerRequestToolsCall_OverTheDailyQuota_Gets429WithRetryAfter_AndTheSameJsonRpcError()
    {
        var name = "st" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url), Agent("status", Key, $"{name}/*"), new Dictionary<string, string?> { ["Gateway:Agents:status:Limits:DailyQuota"] = "1" }));
        await gateway.WaitForToolAsync($"{name}__echo");

        var (first, _, firstBody) = await PostAsync(gateway, "tools/call", $"{name}__echo", id: 7);
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Null(firstBody["error"]);

        var before = CallLog.Count(name, "echo");
        var (status, headers, body) = await PostAsync(gateway, "tools/call", $"{name}__echo", id: "call-8");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        var retryAfter = Assert.Single(headers.GetValues("Retry-After"));
        Assert.InRange(long.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture), 1, 86_400);
        Assert.Equal("call-8", body["id"]!.GetValue<string>());
        Assert.Equal(-32029, body["error"]!["code"]!.GetValue<int>());
        Assert.StartsWith("Daily quota reached: agent 'status' may start 1 tool calls per UTC day", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("dailyQuota", body["error"]!["data"]!["limit"]!.GetValue<string>());
        Assert.Equal(retryAfter, body["error"]!["data"]!["retryAfterSeconds"]!.ToJsonString());
        Assert.Equal(before, CallLog.Count(name, "echo"));

        // Not a tools/call: answered as usual, however used up the quota is.
        var (listed, _, list) = await PostAsync(gateway, "tools/list", null, id: 9);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.NotNull(list["result"]);

        // Audited as denied, once, as every limit refusal.
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Actor == "status" && r.Kind == AuditKinds.ToolCall).ToList();
        var denied = Assert.Single(trail, r => r.Outcome == AuditOutcomes.Denied);
        Assert.StartsWith("Daily quota reached", denied.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASessionsToolsCall_OverAPerToolRule_Gets429_TheSdkClientSurfacesIt_AndTheSessionGoesOn()
    {
        var name = "ss" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(name, url), Agent("session", Key, $"{name}/*"), new Dictionary<string, string?>
        {
            ["Gateway:Limits:Tools:one-echo:Match"] = $"{name}/echo",
            ["Gateway:Limits:Tools:one-echo:DailyQuota"] = "1",
        }));
        await gateway.WaitForToolAsync($"{name}__echo");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");
        Assert.NotNull(client.SessionId);
        Assert.NotEqual(true, (await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: TestContext.Timeout)).IsError);

        // The C# SDK client throws the 429 (its body in the message) rather than waiting for an answer on a stream.
        var error = await LimitRefusals.ErrorOfAsync(() => client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "two" }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("(limit 'one-echo')", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // The session is intact: other tools and requests go on.
        Assert.NotEmpty(await client.ListToolsAsync(cancellationToken: TestContext.Timeout));
        var other = await client.CallToolAsync($"{name}__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, other.IsError);
    }

    [Fact]
    public async Task TheTypeScriptSdkClient_SurfacesThe429AsAnError_AndItsSessionGoesOn()
    {
        var name = "ts" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url), Agent("typescript", Key, $"{name}/*"), new Dictionary<string, string?> { ["Gateway:Agents:typescript:Limits:DailyQuota"] = "1" }));
        await gateway.WaitForToolAsync($"{name}__echo");

        var (code, output) = await RunTypeScriptAgentAsync(gateway, $"{name}__echo", calls: 2);
        Assert.True(code == 0, output);
        foreach (var expected in new[] { "call 0: ok", "call 1: error 429 Streamable HTTP error: Error POSTing to endpoint: {", "Daily quota reached: agent \\u0027typescript\\u0027", "\"limit\":\"dailyQuota\"", "tools: " })
        {
            Assert.True(output.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in the agent's output:\n{output}");
        }
        Assert.Equal(1, CallLog.Details(name, "echo").Count(d => d?.StartsWith("ts-", StringComparison.Ordinal) == true));
    }

    private static Task<(int Code, string Output)> RunTypeScriptAgentAsync(GatewayHost gateway, string tool, int calls) =>
        TypeScriptAgents.RunAsync("limit-client.mjs", Key, gateway.McpUri.ToString(), tool, calls.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>One 2026-07-28 request on the wire: its status, headers, and JSON-RPC message.</summary>
    private static async Task<(HttpStatusCode Status, System.Net.Http.Headers.HttpResponseHeaders Headers, JsonObject Body)> PostAsync(GatewayHost gateway, string method, string? tool, JsonNode id)
    {
        var parameters = new JsonObject
        {
            ["_meta"] = new JsonObject
            {
                ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
                ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
                ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject(),
            },
        };
        if (tool is not null)
        {
            parameters["name"] = tool;
            parameters["arguments"] = new JsonObject { ["message"] = "raw" };
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri)
        {
            Content = new StringContent(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer " + Key);
        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", method);
        if (tool is not null)
        {
            request.Headers.Add("Mcp-Name", tool);
        }

        using var response = await http.SendAsync(request, TestContext.Timeout);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        var json = text.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..] ?? text;
        return (response.StatusCode, response.Headers, JsonNode.Parse(json)!.AsObject());
    }
}
