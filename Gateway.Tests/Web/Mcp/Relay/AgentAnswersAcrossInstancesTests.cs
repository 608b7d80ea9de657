using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// An upstream asks the agent a question during a call on a 2025-11-25 session (sampling): the question goes out on the
/// call's stream from instance A, and the agent's answer is posted to instance B, as a balancer without affinity does.
/// B relays it through the shared database and the call on A completes with it: no stickiness needed.
/// </summary>
public sealed class AgentAnswersAcrossInstancesTests
{
    private const string Key = "answers-agent-key-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnAnswerPostedToTheOtherInstance_CompletesTheCallThatAsked_OnlyOnItsOwnSession(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var server = await ConformanceServer.StartAsync();
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Http("conformance", $"{server.Urls.First()}/mcp", prefix: ""), Agent("agent", Key, "conformance/*"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("answers");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        await a.WaitForToolAsync("test_sampling");

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var session = await BeginAsync(http, a);
        var otherSession = await BeginAsync(http, a);

        // The call runs on A; its response is a stream on which the upstream's question arrives.
        using var call = await SendAsync(http, a, session, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_sampling","arguments":{"prompt":"across"}}}""", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        using var events = new StreamReader(await call.Content.ReadAsStreamAsync(TestContext.Timeout));
        var question = await NextMessageAsync(events, m => m["method"]?.GetValue<string>() == "sampling/createMessage");
        var id = question["id"]!.GetValue<string>();

        // The same answer on another session of the same agent (posted to B) is not taken as this session's.
        using (var wrong = await SendAsync(http, b, otherSession, Answer(id, "from the wrong session"), HttpCompletionOption.ResponseContentRead))
        {
            Assert.Equal(HttpStatusCode.Accepted, wrong.StatusCode);
        }

        // The answer reaches B; the call on A ends with it.
        using (var answered = await SendAsync(http, b, session, Answer(id, "answered on B"), HttpCompletionOption.ResponseContentRead))
        {
            Assert.Equal(HttpStatusCode.Accepted, answered.StatusCode);
        }

        var result = await NextMessageAsync(events, m => m["id"]?.GetValue<int>() == 2);
        Assert.Equal("LLM response: answered on B", result["result"]?["content"]?[0]?["text"]?.GetValue<string>());
    }

    private static string Answer(string id, string text) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["result"] = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = new JsonObject { ["type"] = "text", ["text"] = text },
            ["model"] = "test-model",
            ["stopReason"] = "endTurn",
        },
    }.ToJsonString();

    /// <summary>Reads server-sent events until a JSON-RPC message matching <paramref name="wanted"/> (bounded by the test timeout).</summary>
    private static async Task<JsonObject> NextMessageAsync(StreamReader events, Func<JsonObject, bool> wanted)
    {
        var seen = new StringBuilder();
        while (await events.ReadLineAsync(TestContext.Timeout) is { } line)
        {
            seen.AppendLine(line.Length > 300 ? line[..300] : line);
            if (line.StartsWith("data:", StringComparison.Ordinal) && line.Length > 5
                && JsonNode.Parse(line[5..]) is JsonObject message && wanted(message))
            {
                return message;
            }
        }

        throw new Xunit.Sdk.XunitException("The stream ended before the expected message:\n" + seen);
    }

    private static async Task<string> BeginAsync(HttpClient http, GatewayHost gateway)
    {
        using var initialize = await SendAsync(http, gateway, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"raw","version":"1"}}}""", HttpCompletionOption.ResponseContentRead);
        Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);
        var session = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await SendAsync(http, gateway, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", HttpCompletionOption.ResponseContentRead);
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, GatewayHost gateway, string? session, string json, HttpCompletionOption completion)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        }

        return await http.SendAsync(request, completion, TestContext.Timeout);
    }
}
