using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Limits;

/// <summary>
/// Per-agent limits through a real gateway, a real SQLite file and a real HTTP upstream: a refused call is a JSON-RPC
/// error naming the limit and when to retry (sent with HTTP 429 when a window refused it), it is audited as denied,
/// and it never reaches the upstream.
/// </summary>
public sealed class AgentLimitsTests
{
    private const int LimitCode = -32029;

    [Fact]
    public async Task RateLimit_RefusesTheCallAfterTheLimit_AuditsIt_AndTheUpstreamNeverSeesIt()
    {
        var name = "l" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Http(name, url));
        await gateway.WaitForToolAsync($"{name}__echo");

        // Windows are UTC minutes: if one ends during an attempt, the count restarts and the attempt proves nothing,
        // so it is repeated with a fresh agent (at most once more in practice).
        for (var attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 3, "Every attempt straddled a minute boundary.");
            var agent = $"rate{attempt}";
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = agent, grants = new[] { $"{name}/echo" }, limits = new { requestsPerMinute = 3 } }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var key = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
            await using var client = await gateway.ConnectAsync(key);

            var minute = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
            var before = CallLog.Count(name, "echo");
            for (var i = 0; i < 3; i++)
            {
                var ok = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = $"{agent}-{i}" }, cancellationToken: TestContext.Timeout);
                Assert.NotEqual(true, ok.IsError);
            }

            var refusal = await Record.ExceptionAsync(() => client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = $"{agent}-over" }, cancellationToken: TestContext.Timeout).AsTask());
            if (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 != minute)
            {
                continue;
            }

            // A window limit: HTTP 429 whose body is the JSON-RPC error.
            var error = LimitRefusals.ErrorOf(refusal);
            Assert.Contains($"Rate limit reached: agent '{agent}' may start 3 tool calls per minute", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("requestsPerMinute", error.GetProperty("data").GetProperty("limit").GetString());
            Assert.InRange(error.GetProperty("data").GetProperty("retryAfterSeconds").GetInt32(), 1, 60);

            // The upstream got the three allowed calls and not the fourth.
            Assert.Equal(before + 3, CallLog.Count(name, "echo"));
            Assert.DoesNotContain($"{agent}-over", CallLog.Details(name, "echo"));

            // Audited as denied, naming the limit; no "started" entry, so it was never on its way to the upstream.
            var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Actor == agent).ToList();
            var denied = Assert.Single(trail, r => r.Kind == AuditKinds.ToolCall && r.Outcome == AuditOutcomes.Denied);
            Assert.Equal($"{name}__echo", denied.Tool);
            Assert.StartsWith("Rate limit reached", denied.Error, StringComparison.Ordinal);
            Assert.Equal(3, trail.Count(r => r.Kind == AuditKinds.ToolCallStarted));

            // The API shows the usage of this minute against the limit.
            var usage = (await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/agents/{agent}", TestContext.Timeout)).GetProperty("usage");
            Assert.Equal(3, usage.GetProperty("thisMinute").GetInt32());
            Assert.Equal(3, usage.GetProperty("effective").GetProperty("requestsPerMinute").GetInt32());
            return;
        }
    }

    [Fact]
    public async Task ConcurrencyLimit_FromProvisioning_RefusesWhileACallIsInFlight_AndFreesTheSlotWhenItEnds()
    {
        var name = "c" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url),
            Agent("worker", "worker-key-0123456789", $"{name}/*"),
            new Dictionary<string, string?> { ["Gateway:Agents:worker:Limits:MaxConcurrent"] = "1" }));
        await gateway.WaitForToolAsync($"{name}__slow");
        await using var client = await gateway.ConnectAsync("worker-key-0123456789");

        var slowBefore = CallLog.Count(name, "slow");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        var slow = client.CallToolAsync($"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 120_000 }, cancellationToken: cancel.Token).AsTask();
        await Eventually.TrueAsync(() => CallLog.Count(name, "slow") == slowBefore + 1, "the slow call reached the upstream");

        var echoBefore = CallLog.Count(name, "echo");
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "second" }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(LimitCode, (int)ex.ErrorCode);
        Assert.Contains("Concurrency limit reached: agent 'worker' may have 1 tool calls in flight at once", ex.Message, StringComparison.Ordinal);
        Assert.Equal("maxConcurrent", ex.Data["limit"]);
        Assert.Equal(echoBefore, CallLog.Count(name, "echo"));

        var agent = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/worker", TestContext.Timeout);
        Assert.Equal(1, agent.GetProperty("limits").GetProperty("maxConcurrent").GetInt32());
        Assert.Equal(1, agent.GetProperty("usage").GetProperty("inFlight").GetInt32());

        // The agent gives up on the slow call: its slot is free again.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "after" }, cancellationToken: TestContext.Timeout)).IsError != true;
                }
                catch (McpProtocolException e) when ((int)e.ErrorCode == LimitCode)
                {
                    return false;
                }
            },
            "a call is accepted once the slow one ended");
        Assert.Contains("after", CallLog.Details(name, "echo"));
    }

    [Fact]
    public async Task DailyQuota_SetThroughTheApi_IsValidatedByField_AppliesAtTheNextCall_AndIsAudited()
    {
        var name = "q" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Http(name, url));
        await gateway.WaitForToolAsync($"{name}__echo");
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "quota", grants = new[] { $"{name}/echo" } }, TestContext.Timeout);
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
        await using var client = await gateway.ConnectAsync(key);
        await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "free" }, cancellationToken: TestContext.Timeout);

        using var invalid = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/quota", new { limits = new { maxConcurrent = -1, dailyQuota = 1 } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.Contains("0 (unlimited)", errors.GetProperty("limits.maxConcurrent")[0].GetString(), StringComparison.Ordinal);
        Assert.False(errors.TryGetProperty("limits.dailyQuota", out var __));

        // Today's count so far (1) is already at a quota of 1: the next call is refused.
        using var set = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/quota", new { limits = new { dailyQuota = 1 } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var before = CallLog.Count(name, "echo");
        var error = await LimitRefusals.ErrorOfAsync(() => client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "over" }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("Daily quota reached: agent 'quota' may start 1 tool calls per UTC day", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("dailyQuota", error.GetProperty("data").GetProperty("limit").GetString());
        Assert.InRange(error.GetProperty("data").GetProperty("retryAfterSeconds").GetInt32(), 1, 86_400);
        Assert.Equal(before, CallLog.Count(name, "echo"));

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Actor == "quota" && r.Outcome == AuditOutcomes.Denied && r.Error!.StartsWith("Daily quota reached", StringComparison.Ordinal));
        Assert.Contains(trail, r => r.Kind == AuditKinds.AdminChange && r.Tool == "agent/quota" && r.Decision == "limits");

        // Back to the default (unlimited): the agent can call again at once.
        using var reset = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/quota", new { limits = new { } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.NotEqual(true, (await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "again" }, cancellationToken: TestContext.Timeout)).IsError);
    }

    [Fact]
    public async Task ToolRule_FromConfiguration_LimitsTheMatchingToolOnly()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url),
            Agent("worker", "worker-key-0123456789", $"{name}/*"),
            new Dictionary<string, string?> { ["Gateway:Limits:Tools:one-slow:Match"] = $"{name}/slow", ["Gateway:Limits:Tools:one-slow:MaxConcurrent"] = "1" }));
        await gateway.WaitForToolAsync($"{name}__slow");
        await using var client = await gateway.ConnectAsync("worker-key-0123456789");

        var slowBefore = CallLog.Count(name, "slow");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        var slow = client.CallToolAsync($"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 120_000 }, cancellationToken: cancel.Token).AsTask();
        await Eventually.TrueAsync(() => CallLog.Count(name, "slow") == slowBefore + 1, "the slow call reached the upstream");

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync($"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 1 }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(LimitCode, (int)ex.ErrorCode);
        Assert.Contains($"may have 1 calls of tools matching '{name}/slow' (limit 'one-slow') in flight at once", ex.Message, StringComparison.Ordinal);
        Assert.Equal(slowBefore + 1, CallLog.Count(name, "slow"));

        // Other tools are not limited by the rule.
        var echo = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "free" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, echo.IsError);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
    }
}
