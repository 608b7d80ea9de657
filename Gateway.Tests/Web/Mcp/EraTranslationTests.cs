using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// Agents and upstreams of different protocol eras, through the gateway: a 2025-11-25 agent gets ordinary
/// server-to-client requests for a 2026-07-28 upstream's input_required, and a 2026-07-28 agent gets input_required for a
/// 2025-11-25 upstream's server-to-client requests. Either way the upstream receives the agent's answer and the audit
/// holds one call.
/// </summary>
public sealed class EraTranslationTests
{
    private const string Key = "era-agent-key-0123456789";

    /// <summary>The TypeScript SDK agent (2025-11-25) answers the one request it gets; the upstream builds its result from the answer.</summary>
    [Theory]
    [InlineData("test_input_required_result_elicitation", "Ada", "elicited: What is your name?", "Hello, Ada!")]
    [InlineData("test_input_required_result_sampling", "Paris", "sampled: What is the capital of France?", "The model answered: Paris")]
    public async Task A2025Agent_CallingA2026OnlyUpstream_IsAskedWithAnOrdinaryRequest_AndTheUpstreamGetsTheAnswer(string tool, string answer, string asked, string result)
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.PerRequest);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("modern", $"{server.Urls.First()}/mcp", prefix: ""), Agent("era", Key, "modern/*")));
        await gateway.WaitForToolAsync(tool);
        Assert.True(gateway.Upstreams.TryGet("modern", out var connection));
        Assert.Equal("2026-07-28", connection.ProtocolVersion);

        var (code, output) = await RunTypeScriptAgentAsync(gateway, tool, "{}", answer);

        Assert.True(code == 0, output);
        Assert.Contains("protocol: 2025-11-25", output, StringComparison.Ordinal);
        Assert.Contains(asked, output, StringComparison.Ordinal);
        Assert.Contains("asked: 1", output, StringComparison.Ordinal);
        Assert.Contains(result, output, StringComparison.Ordinal);
        await AssertOneCallAsync(gateway, tool, rounds: 2);
    }

    [Fact]
    public async Task A2026Agent_CallingA2025OnlyUpstream_IsAskedForASample_AndTheWaitingUpstreamRequestGetsIt()
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""), Agent("era", Key, "legacy/*")));
        await gateway.WaitForToolAsync("test_sampling");
        var prompts = new List<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2026-07-28",
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) =>
                {
                    lock (prompts)
                    {
                        prompts.AddRange(request!.Messages.SelectMany(m => m.Content.OfType<TextContentBlock>()).Select(t => t.Text));
                    }

                    return ValueTask.FromResult(new CreateMessageResult { Role = Role.Assistant, Model = "era-test-model", Content = [new TextContentBlock { Text = "Paris" }] });
                },
            },
        });

        var result = await agent.CallToolAsync("test_sampling", new Dictionary<string, object?> { ["prompt"] = "Capital of France?" }, cancellationToken: TestContext.Timeout);

        Assert.Equal(["Capital of France?"], prompts);
        Assert.Equal("LLM response: Paris", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await AssertOneCallAsync(gateway, "test_sampling", rounds: 1);
    }

    [Fact]
    public async Task A2026Agent_CallingA2025OnlyUpstream_GetsInputRequired_AndItsAnswerReachesTheWaitingUpstreamRequest()
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""), Agent("era", Key, "legacy/*")));
        await gateway.WaitForToolAsync("test_elicitation");
        Assert.True(gateway.Upstreams.TryGet("legacy", out var connection));
        Assert.Equal("2025-11-25", connection.ProtocolVersion);

        var asked = new List<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2026-07-28",
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    lock (asked)
                    {
                        asked.Add(request!.Message);
                    }

                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { ["username"] = Json("ada"), ["email"] = Json("ada@example.com") } });
                },
            },
        });
        Assert.Equal("2026-07-28", agent.NegotiatedProtocolVersion);

        // The C# client answers input_required itself (its elicitation handler) and retries: the upstream, which asked
        // with a request on its 2025-11-25 session, gets the answer and reports what it received.
        var result = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = "Who are you?" }, cancellationToken: TestContext.Timeout);

        Assert.Equal(["Who are you?"], asked);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.Contains("accept", text, StringComparison.Ordinal);
        Assert.Contains("ada@example.com", text, StringComparison.Ordinal);
        await AssertOneCallAsync(gateway, "test_elicitation", rounds: 1);
    }

    [Fact]
    public async Task A2026Agent_AnsweringForAnotherAgentsWaitingCall_IsRefused_AndTheOwnerStillFinishes()
    {
        const string OtherKey = "other-agent-key-0123456789";
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""), Agent("era", Key, "legacy/*"), Agent("other", OtherKey, "legacy/*")));
        await gateway.WaitForToolAsync("test_elicitation");
        // Raw rounds, as a 2026-07-28 client sends them: the first answer is input_required with a sealed state.
        var first = await RawCallAsync(gateway, Key, "test_elicitation", null, null);
        Assert.Equal("input_required", first["resultType"]?.GetValue<string>());
        var state = first["requestState"]!.GetValue<string>();
        var key = Assert.Single(first["inputRequests"]!.AsObject()).Key;

        // Another agent with the same state, and the owner with an altered one, are refused without touching the call.
        var foreign = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => RawCallAsync(gateway, OtherKey, "test_elicitation", state, Answer(key)));
        Assert.Equal(ModelContextProtocol.McpErrorCode.InvalidParams, foreign.ErrorCode);
        var tampered = state[..^4] + (state[^4] == 'A' ? "B" : "A") + state[^3..];
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => RawCallAsync(gateway, Key, "test_elicitation", tampered, Answer(key)));

        // The owner's answer finishes the call; the same state a second time (a replay) is refused.
        var done = await RawCallAsync(gateway, Key, "test_elicitation", state, Answer(key));
        Assert.Contains("ada@example.com", done["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => RawCallAsync(gateway, Key, "test_elicitation", state, Answer(key)));
        await AssertOneCallAsync(gateway, "test_elicitation", rounds: 1);
    }

    // A parked call runs on beyond the agent's request, between its rounds: when the agent is disabled (or its key or
    // user revoked) it ends at once, as a call in flight does, instead of waiting out the answer lifetime (15 minutes).
    [Fact]
    public async Task A2026AgentsParkedCall_EndsAtOnce_WhenTheAgentIsDisabled()
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""));
        await gateway.WaitForToolAsync("test_elicitation");
        using var create = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(gateway.Admin, "/api/v1/agents", new { name = "parker", grants = new[] { "legacy/*" } }, TestContext.Timeout);
        var key = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(create.Content, TestContext.Timeout)).GetProperty("apiKey").GetString()!;

        var first = await RawCallAsync(gateway, key, "test_elicitation", null, null);
        Assert.Equal("input_required", first["resultType"]?.GetValue<string>());
        var parked = gateway.Services.GetRequiredService<Gateway.Web.Mcp.RoundTrips.ParkedCalls>();
        Assert.Equal(1, parked.Count);

        using (var disable = await System.Net.Http.Json.HttpClientJsonExtensions.PutAsJsonAsync(gateway.Admin, "/api/v1/agents/parker", new { enabled = false }, TestContext.Timeout))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, disable.StatusCode);
        }

        await Eventually.TrueAsync(() => parked.Count == 0, "the disabled agent's parked call ended");
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Tool == "test_elicitation").ToList();
        Assert.Equal([AuditKinds.ToolCallStarted, AuditKinds.ToolCall], trail.Select(r => r.Kind));
        Assert.NotEqual(AuditOutcomes.Ok, trail[^1].Outcome);
    }

    private static System.Text.Json.Nodes.JsonObject Answer(string key) => new()
    {
        [key] = new System.Text.Json.Nodes.JsonObject { ["action"] = "accept", ["content"] = new System.Text.Json.Nodes.JsonObject { ["username"] = "ada", ["email"] = "ada@example.com" } },
    };

    /// <summary>One 2026-07-28 tools/call on the wire (no SDK client, which would answer input_required itself).</summary>
    private static Task<System.Text.Json.Nodes.JsonObject> RawCallAsync(GatewayHost gateway, string key, string tool, string? state, System.Text.Json.Nodes.JsonObject? answers)
    {
        var parameters = new System.Text.Json.Nodes.JsonObject { ["name"] = tool, ["arguments"] = new System.Text.Json.Nodes.JsonObject { ["message"] = "Who are you?" } };
        if (state is not null)
        {
            parameters["requestState"] = state;
            parameters["inputResponses"] = answers;
        }

        return RawMcp.ResultAsync(gateway.McpUri, key, "tools/call", parameters, tool);
    }

    private static System.Text.Json.JsonElement Json(string value) => System.Text.Json.JsonSerializer.SerializeToElement(value);

    /// <summary>One call: one first round (started, then its rounds), one final outcome, never a second policy decision.</summary>
    private static async Task AssertOneCallAsync(GatewayHost gateway, string tool, int rounds)
    {
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var entries = await db.AuditEntries.Where(e => e.Tool == tool && (e.Kind == AuditKinds.ToolCall || e.Kind == AuditKinds.ToolCallStarted)).OrderBy(e => e.Sequence).ToListAsync(TestContext.Timeout);
        var started = entries.Where(e => e.Kind == AuditKinds.ToolCallStarted).ToList();
        Assert.Equal(rounds, started.Count);
        var root = started[0].CallId!;
        Assert.All(started.Skip(1).Select((e, i) => (e, i)), x => Assert.Equal($"{root}.{x.i + 2}", x.e.CallId));
        var completions = entries.Where(e => e.Kind == AuditKinds.ToolCall).ToList();
        Assert.Equal(rounds, completions.Count);
        Assert.All(completions.SkipLast(1), e => Assert.Equal(AuditOutcomes.InputRequired, e.Outcome));
        Assert.Equal(AuditOutcomes.Ok, completions[^1].Outcome);
        Assert.All(entries, e => Assert.Equal("allow", e.Decision));
    }

    private static Task<(int Code, string Output)> RunTypeScriptAgentAsync(GatewayHost gateway, string tool, string args, string answer) =>
        TypeScriptAgents.RunAsync("elicit-client.mjs", Key, gateway.McpUri.ToString(), tool, args, answer);
}
