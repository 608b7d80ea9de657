using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Fuzzing;

/// <summary>
/// Seeded, mutated requests over <c>/mcp</c> in both revisions (2025-11-25 sessions and 2026-07-28 per-request
/// metadata), against a real gateway and a real upstream. Holds: no 5xx, every answer within a bound, nothing reaches
/// the upstream but granted calls (each with its committed <c>started</c> entry), and afterwards the gateway answers a
/// valid call, is ready, its audit chain verifies, and nothing was logged as an error. A failure names the seed and
/// the input to replay it.
/// </summary>
public sealed class McpEndpointFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Key = "fuzz-agent-key-0123456789";
    private const int FirstId = 1000;
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(15);
    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = 1024 };
    private const string Meta2026 = "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"},\"io.modelcontextprotocol/clientCapabilities\":{}}";

    [Fact]
    public async Task MutatedRequests_NeverGive5xx_NeverReachTheUpstreamUngranted_AndLeaveTheGatewayHealthy()
    {
        var (seed, count) = Fuzz.Settings(defaultCount: 2000);
        var fuzz = new Fuzz(seed);
        var name = "fz" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        var errors = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(name, url), Agent("agent", Key, $"{name}/echo")), logSink: errors, sinkLevel: Microsoft.Extensions.Logging.LogLevel.Error);
        await gateway.WaitForToolAsync($"{name}__echo");
        await using var session = await gateway.ConnectAsync(Key, "2025-11-25");
        using var http = new HttpClient { BaseAddress = gateway.BaseUri, Timeout = AnswerBound };

        string[] templates =
        [
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}",
            $"{{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{{\"name\":\"{name}__echo\",\"arguments\":{{\"message\":\"hi\"}}}}}}",
            $"{{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{{\"name\":\"{name}__add\",\"arguments\":{{\"a\":1,\"b\":2}}}}}}",
            $"{{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{{\"name\":\"{name}__env\",\"arguments\":{{\"name\":\"PATH\"}}}}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"prompts/get\",\"params\":{\"name\":\"greet\",\"arguments\":{\"name\":\"x\"}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/read\",\"params\":{\"uri\":\"test://items/1\"}}",
            "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":3}}",
            "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"greet\"},\"argument\":{\"name\":\"name\",\"value\":\"A\"}}}",
        ];

        var statuses = new Dictionary<int, int>();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            var revision2026 = fuzz.Chance(0.4);
            var document = JsonNode.Parse(fuzz.Pick(templates))!;

            // Each request its own id, and a cancellation names the one before it (answered by then). A session's ids
            // must not repeat (JSON-RPC): a cancellation of an earlier request with the same id, taken after its 202
            // but handled after the new request had started, would rightly cancel the new one and leave it unanswered.
            if (document["id"] is not null)
            {
                document["id"] = FirstId + i;
            }
            else if (document["params"]?["requestId"] is not null)
            {
                document["params"]!["requestId"] = FirstId + i - 1;
            }

            if (revision2026)
            {
                (document["params"] as JsonObject ?? (JsonObject)(document["params"] = new JsonObject()))["_meta"] = JsonNode.Parse(Meta2026);
            }

            if (fuzz.Chance(0.85))
            {
                fuzz.Mutate(document);
            }

            var body = document.ToJsonString(Deep);
            if (fuzz.Chance(0.2))
            {
                body = fuzz.Damage(body);
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (fuzz.Chance(0.05) && fuzz.String(2) is var contentType && contentType.All(c => c is >= ' ' and <= '~'))
            {
                request.Content.Headers.Remove("Content-Type");
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            Header(request, "Authorization", "Bearer " + Key);
            if (fuzz.Chance(0.95))
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            }

            if (revision2026)
            {
                Header(request, "MCP-Protocol-Version", fuzz.Chance(0.9) ? "2026-07-28" : fuzz.String(2));
                Header(request, "Mcp-Method", document["method"] is JsonValue method && method.GetValueKind() == JsonValueKind.String ? method.GetValue<string>() : "x");
                if (fuzz.Chance(0.7) && (document["params"] as JsonObject)?["name"] is JsonValue toolName)
                {
                    Header(request, "Mcp-Name", toolName.ToString());
                }
            }
            else
            {
                Header(request, "MCP-Protocol-Version", fuzz.Chance(0.9) ? "2025-11-25" : fuzz.String(2));
                Header(request, "Mcp-Session-Id", fuzz.Chance(0.9) ? session.SessionId : fuzz.String(2));
            }

            var started = Stopwatch.GetTimestamp();
            var receivedBefore = CallLog.Count(name, "echo");
            HttpStatusCode status;
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                status = response.StatusCode;
            }
            catch (TaskCanceledException)
            {
                // Where the request stopped: whether the upstream ran it, and the audit's last entries.
                var last = (await gateway.AuditTrailAsync()).TakeLast(3).Select(e => $"{e.Record.Kind} {e.Record.Tool} {e.Record.Outcome} at {e.Record.Timestamp:HH:mm:ss.fff}");
                Assert.Fail($"seed {seed}, input {i}: no answer within {AnswerBound.TotalSeconds} s (at {DateTimeOffset.UtcNow:HH:mm:ss.fff}) to {Fuzz.Shorten(body)}; "
                    + $"echo run by the upstream {CallLog.Count(name, "echo") - receivedBefore} time(s) meanwhile; last audit entries: {string.Join("; ", last)}");
                throw;
            }

            var took = Stopwatch.GetElapsedTime(started);
            slowest = took > slowest ? took : slowest;
            statuses[(int)status] = statuses.GetValueOrDefault((int)status) + 1;
            Assert.True((int)status < 500, $"seed {seed}, input {i}: HTTP {(int)status} for {Fuzz.Shorten(body)}");
        }

        // No input made a handler fail: each is refused or answered as the agent's error (an error logged per request
        // would also let an agent grow the log at will).
        Assert.Empty(ListLoggerProvider.Snapshot(errors));

        // Only the granted tool ever reached the upstream, and each call that did has its committed started entry.
        Assert.Equal(0, CallLog.Count(name, "add"));
        Assert.Equal(0, CallLog.Count(name, "env"));
        var trail = await gateway.AuditTrailAsync();
        var startedEntries = trail.Count(e => e.Record.Kind == AuditKinds.ToolCallStarted && e.Record.Tool == $"{name}__echo");
        // (A forwarded call with arguments the upstream's tool cannot bind never reaches its code: fewer calls than entries.)
        var received = CallLog.Count(name, "echo");
        Assert.InRange(received, 1, startedEntries);

        // Healthy afterwards: ready, a valid call goes through, and the chain verifies.
        using (var ready = await http.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var echo = await session.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "after the storm" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("after the storm", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text, StringComparison.Ordinal);
        var verifier = new AuditVerifier();
        foreach (var entry in await gateway.AuditTrailAsync())
        {
            verifier.Add(entry);
        }

        var verification = verifier.Complete();
        Assert.True(verification.Intact, verification.Problem);

        // Shown in the test log: what the run covered.
        output.WriteLine($"fuzz /mcp: seed {seed}, {count} inputs, statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}, slowest {slowest.TotalMilliseconds:0} ms, forwarded {startedEntries}, run by the upstream's tool {received}");
    }

    /// <summary>Sets a header when HttpClient can send it (ASCII without line breaks); the gateway never sees the others.</summary>
    private static void Header(HttpRequestMessage request, string name, string? value)
    {
        if (value is not null && value.All(c => c is >= ' ' and <= '~'))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
