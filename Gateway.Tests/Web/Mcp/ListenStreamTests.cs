using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>subscriptions/listen: a 2026-07-28 agent hears the list changes of its own view, from every upstream.</summary>
public sealed class ListenStreamTests
{
    private const string Key = "listen-agent-key-0123456789";

    [Fact]
    public async Task AListenStream_IsAcknowledged_ThenCarriesToolListChanged_WhenAnUpstreamChangesItsTools()
    {
        var (upstream, url) = await StartHttpAsync("remote");
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("remote", url), Agent("listener", Key, "remote/*")));
        await gateway.WaitForToolAsync("remote__toggle_extra");

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var (response, reader) = await ListenAsync(http, gateway, Key, "listen-1", new JsonObject { ["toolsListChanged"] = true, ["resourceSubscriptions"] = new JsonArray("test://x") });
        using var listening = response;
        using var lines = reader;

        // First the acknowledgement: list changes of tools granted, resource subscriptions not offered here.
        var ack = await NextMessageAsync(reader);
        Assert.Equal("notifications/subscriptions/acknowledged", ack["method"]?.GetValue<string>());
        Assert.True(ack["params"]!["notifications"]!["toolsListChanged"]!.GetValue<bool>());
        Assert.Null(ack["params"]!["notifications"]!["resourceSubscriptions"]);
        Assert.Equal("listen-1", ack["params"]!["_meta"]!["io.modelcontextprotocol/subscriptionId"]?.GetValue<string>());

        // An upstream adds a tool (a call of another client of the gateway): the stream says so, tagged with its id.
        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        var changed = await NextMessageAsync(reader);
        Assert.Equal("notifications/tools/list_changed", changed["method"]?.GetValue<string>());
        Assert.Equal("listen-1", changed["params"]!["_meta"]!["io.modelcontextprotocol/subscriptionId"]?.GetValue<string>());
        await gateway.WaitForToolAsync("remote__extra");
    }

    [Fact]
    public async Task OneAgent_MayHold16Streams_AndThe17thIsRefused_WhileAnotherAgentStillListens()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("listener", Key, "none/*"), Agent("other", "other-listen-key-0123456789", "none/*")));
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var open = new List<(HttpResponseMessage Response, StreamReader Reader)>();
        try
        {
            for (var i = 0; i < Gateway.Web.Mcp.ListenStreams.MaxPerAgent; i++)
            {
                open.Add(await ListenAsync(http, gateway, Key, $"listen-{i}"));
                Assert.Equal("notifications/subscriptions/acknowledged", (await NextMessageAsync(open[^1].Reader))["method"]?.GetValue<string>());
            }

            var (refused, refusedReader) = await ListenAsync(http, gateway, Key, "listen-over");
            using (refused)
            using (refusedReader)
            {
                var error = await NextMessageAsync(refusedReader);
                Assert.Equal(-32600, error["error"]?["code"]?.GetValue<int>());
                Assert.Contains("at most 16", error["error"]?["message"]?.GetValue<string>(), StringComparison.Ordinal);
            }

            var (other, otherReader) = await ListenAsync(http, gateway, "other-listen-key-0123456789", "listen-other");
            open.Add((other, otherReader));
            Assert.Equal("notifications/subscriptions/acknowledged", (await NextMessageAsync(otherReader))["method"]?.GetValue<string>());
        }
        finally
        {
            foreach (var (response, reader) in open)
            {
                reader.Dispose();
                response.Dispose();
            }
        }
    }

    internal static async Task<(HttpResponseMessage Response, StreamReader Reader)> ListenAsync(HttpClient http, GatewayHost gateway, string key, string id, JsonObject? notifications = null, Uri? endpoint = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint ?? gateway.McpUri)
        {
            Content = new StringContent(new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = id,
                ["method"] = "subscriptions/listen",
                ["params"] = new JsonObject
                {
                    ["notifications"] = notifications ?? new JsonObject { ["toolsListChanged"] = true },
                    ["_meta"] = new JsonObject
                    {
                        ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
                        ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
                        ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject(),
                    },
                },
            }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer " + key);
        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "subscriptions/listen");
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Timeout)));
    }

    /// <summary>The next JSON-RPC message on an event stream (its data line), within the test's deadline.</summary>
    internal static async Task<JsonObject> NextMessageAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync(TestContext.Timeout) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Length > 6)
            {
                return JsonNode.Parse(line[6..])!.AsObject();
            }
        }

        throw new InvalidOperationException("The stream ended.");
    }
}
