using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// An agent that stops reading its call's event stream while the upstream keeps reporting progress. A stdio upstream's
/// messages reach every agent through one reader; progress used to be written to the agent before the next message was
/// read, so one agent that does not read held every other agent's answers from that upstream, and what the upstream
/// kept writing piled up in the gateway.
/// </summary>
public sealed class SlowAgentTests
{
    private const string Key = "slow-agent-key-0123456789";

    [Fact]
    public async Task AnAgentThatStopsReadingProgress_DoesNotHoldOtherAgentsAnswersFromTheSameUpstream()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("agent", Key, "files/*")));
        await gateway.WaitForToolAsync("files__slow");

        // 100,000 progress notifications back to back (about 20 MB as the gateway sends them) for a call whose caller
        // reads the response headers and nothing more: far more than the sockets' buffers hold, so writing them to
        // that agent blocks.
        using var http = new HttpClient();
        using var flood = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri)
        {
            Content = new StringContent(new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = 1,
                ["method"] = "tools/call",
                ["params"] = new JsonObject
                {
                    ["name"] = "files__slow",
                    ["arguments"] = new JsonObject { ["milliseconds"] = 0, ["steps"] = 100_000 },
                    ["_meta"] = new JsonObject
                    {
                        ["progressToken"] = "flood",
                        ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
                        ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
                        ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject(),
                    },
                },
            }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        flood.Headers.Add("Authorization", "Bearer " + Key);
        flood.Headers.Add("Accept", "application/json, text/event-stream");
        flood.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        flood.Headers.Add("Mcp-Method", "tools/call");
        flood.Headers.Add("Mcp-Name", "files__slow");
        using var stalled = await http.SendAsync(flood, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        Assert.Equal(System.Net.HttpStatusCode.OK, stalled.StatusCode);

        // Another agent's call to the same upstream is answered while the first one still does not read.
        await using var other = await gateway.ConnectAsync(Key, "2025-11-25");
        CallToolResult? result = null;
        try
        {
            result = await other.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "not held" }, cancellationToken: TestContext.Timeout).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Assert.Fail("Another agent's call to the same upstream was not answered within 30 s while the first agent did not read.");
        }

        Assert.Equal("echo: not held", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }
}
