using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.Tests.Web.Hosting;
using Gateway.TestUpstream.Conformance;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// Multi round-trip requests and tasks with two gateway instances on one PostgreSQL database (sharing the key ring), as
/// behind a balancer without affinity: whatever is single use is single use across the instances.
/// </summary>
public sealed class AcrossInstancesTests
{
    private const string Key = "across-agent-key-0123456789";
    private const string Tool = "test_input_required_result_elicitation";

    [SkippableFact]
    public async Task ARequestStateAnsweredOnOneInstance_IsRefusedOnTheOther()
    {
        PostgresServer.SkipUnlessAvailable();
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.PerRequest);
        var (a, b) = await MultiInstanceTests.StartPairAsync(Merge(Http("modern", $"{server.Urls.First()}/mcp", prefix: ""), Agent("agent", Key, "modern/*")));
        await using var _ = a;
        await using var __ = b;
        await a.WaitForToolAsync(Tool);
        await b.WaitForToolAsync(Tool);

        foreach (var (asked, answered) in new[] { (a, b), (b, a) })
        {
            var first = await CallAsync(asked, null);
            Assert.Equal("input_required", first["resultType"]?.GetValue<string>());
            var state = first["requestState"]!.GetValue<string>();

            // Answered on the other instance (the state opens anywhere the key ring is shared), then replayed where it
            // was issued, and on the instance that took it: refused on both, as an unknown state is.
            var done = await CallAsync(answered, state);
            Assert.Equal("Hello, Ada!", done["content"]![0]!["text"]!.GetValue<string>());
            foreach (var replayedOn in new[] { asked, answered })
            {
                var replay = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(replayedOn, state));
                Assert.Equal((McpErrorCode.InvalidParams, Gateway.Web.Mcp.RoundTrips.RequestStateSeal.Invalid), (replay.ErrorCode, replay.Message));
            }
        }
    }

    [SkippableFact]
    public async Task ATaskEndedWhileBothInstancesLook_IsAuditedOnce()
    {
        PostgresServer.SkipUnlessAvailable();
        await using var server = await ConformanceServer.StartAsync();
        var (a, b) = await MultiInstanceTests.StartPairAsync(Merge(Http("conf", $"{server.Urls.First()}/mcp", prefix: ""), Agent("agent", Key, "conf/*")));
        await using var _ = a;
        await using var __ = b;
        await a.WaitForToolAsync("slow_compute");
        await b.WaitForToolAsync("slow_compute");
        await using var onA = await TasksPassThroughTests.ConnectAsync(a, Key, declareTasks: true);
        await using var onB = await TasksPassThroughTests.ConnectAsync(b, Key, declareTasks: true);

        // Created through A (which follows it), read to its end through B: both see the end, one records it.
        var taskId = (await TasksPassThroughTests.CallAsync(onA, "slow_compute", new() { ["seconds"] = 1, ["label"] = "shared" }))["taskId"]!.GetValue<string>();
        Assert.Equal("completed", (await TasksPassThroughTests.PollUntilEndedAsync(onB, taskId))["status"]!.GetValue<string>());
        var follower = a.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
        await Eventually.TrueAsync(() => follower.Following == 0, "A has seen the end too");
        Assert.Equal("completed", (await TasksPassThroughTests.PollUntilEndedAsync(onA, taskId))["status"]!.GetValue<string>());

        await a.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await b.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var ends = (await a.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == Gateway.Core.Audit.AuditKinds.ToolCallTaskEnded).ToList();
        Assert.Equal(("slow_compute", Gateway.Core.Audit.AuditOutcomes.Ok), (Assert.Single(ends).Tool, ends[0].Outcome));
    }

    [SkippableFact]
    public async Task ARetryOfACallWaitingOnOneInstance_ReachingTheOther_FinishesThere_ThroughTheInstanceItWaitsOn()
    {
        PostgresServer.SkipUnlessAvailable();
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        var (a, b) = await MultiInstanceTests.StartPairAsync(Merge(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""), Agent("agent", Key, "legacy/*")));
        await using var _ = a;
        await using var __ = b;
        await a.WaitForToolAsync("test_elicitation");
        await b.WaitForToolAsync("test_elicitation");

        // A 2026-07-28 agent calls a 2025-11-25 upstream that asks mid-call: the call waits on A for the answer.
        var first = await LegacyCallAsync(a, null, null);
        Assert.Equal("input_required", first["resultType"]?.GetValue<string>());
        var state = first["requestState"]!.GetValue<string>();
        var question = Assert.Single(first["inputRequests"]!.AsObject()).Key;
        var answer = new JsonObject { [question] = new JsonObject { ["action"] = "accept", ["content"] = new JsonObject { ["username"] = "ada", ["email"] = "ada@example.com" } } };

        // The retry reaches B (a balancer without affinity): B relays the answers to A, where the upstream call waits,
        // and answers with what came next, the call's result.
        var done = await LegacyCallAsync(b, state, answer);
        Assert.Contains("ada@example.com", done["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);

        // The state was used: the same retry again, on either instance, is refused.
        foreach (var again in new[] { a, b })
        {
            var replay = await Assert.ThrowsAsync<McpProtocolException>(() => LegacyCallAsync(again, state, (JsonObject)answer.DeepClone()));
            Assert.Equal((McpErrorCode.InvalidParams, Gateway.Web.Mcp.RoundTrips.RequestStateSeal.Invalid), (replay.ErrorCode, replay.Message));
        }
    }

    private static Task<JsonObject> LegacyCallAsync(GatewayHost gateway, string? state, JsonObject? answers)
    {
        var parameters = new JsonObject { ["name"] = "test_elicitation", ["arguments"] = new JsonObject { ["message"] = "Who are you?" } };
        if (state is not null)
        {
            parameters["requestState"] = state;
            parameters["inputResponses"] = answers;
        }

        return RawMcp.ResultAsync(gateway.McpUri, Key, "tools/call", parameters, "test_elicitation");
    }

    /// <summary>One raw 2026-07-28 round of the elicitation tool: the first (no state) or a retry answering it.</summary>
    private static Task<JsonObject> CallAsync(GatewayHost gateway, string? state)
    {
        var parameters = new JsonObject { ["name"] = Tool, ["arguments"] = new JsonObject() };
        if (state is not null)
        {
            parameters["requestState"] = state;
            parameters["inputResponses"] = new JsonObject { ["user_name"] = new JsonObject { ["action"] = "accept", ["content"] = new JsonObject { ["name"] = "Ada" } } };
        }

        return RawMcp.ResultAsync(gateway.McpUri, Key, "tools/call", parameters, Tool);
    }
}
