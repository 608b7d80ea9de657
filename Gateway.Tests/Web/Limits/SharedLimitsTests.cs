using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Limits;

/// <summary>
/// Two real gateway instances on one database (a SQLite file, a PostgreSQL database) enforce one agent's limits
/// together: calls spent on either count on both once the instances have exchanged their counts, a restart keeps the
/// day's count, and a call in flight on one takes the agent's concurrency slot on the other until it ends.
/// </summary>
public sealed class SharedLimitsTests
{
    private const string Key = "spender-key-0123456789";
    private const int Quota = 4;

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AQuotaSpentAcrossTwoInstances_RefusesOnBoth_AndSurvivesARestart(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var name = "sh" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var shared = await SharedDatabase.CreateAsync(provider, "limits");
        var settings = shared.Settings(Http(name, url), Agent("spender", Key, $"{name}/echo"), new Dictionary<string, string?> { ["Gateway:Agents:spender:Limits:DailyQuota"] = $"{Quota}" });
        var before = CallLog.Count(name, "echo");
        await using (var a = await GatewayHost.StartAsync(settings))
        await using (var b = await GatewayHost.StartAsync(settings))
        {
            await a.WaitForToolAsync($"{name}__echo");
            await b.WaitForToolAsync($"{name}__echo");
            await using var onA = await a.ConnectAsync(Key);
            await using var onB = await b.ConnectAsync(Key);
            for (var i = 0; i < Quota / 2; i++)
            {
                Assert.NotEqual(true, (await Echo(onA, $"{name}__echo", $"a{i}")).IsError);
                Assert.NotEqual(true, (await Echo(onB, $"{name}__echo", $"b{i}")).IsError);
            }

            // Each instance learns of the other's calls at its next exchange (about a second).
            await Eventually.TrueAsync(async () => await TodayAsync(a) == Quota && await TodayAsync(b) == Quota, "both instances count the calls made on either");
            foreach (var client in new[] { onA, onB })
            {
                var error = await LimitRefusals.ErrorOfAsync(() => Echo(client, $"{name}__echo", "over"));
                Assert.Equal("dailyQuota", error.GetProperty("data").GetProperty("limit").GetString());
                Assert.Contains($"Daily quota reached: agent 'spender' may start {Quota} tool calls per UTC day", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            Assert.Equal(before + Quota, CallLog.Count(name, "echo"));
        }

        // Both stopped (each exchanged once more on its way out); a new instance starts from the stored count.
        await using var restarted = await GatewayHost.StartAsync(settings);
        await restarted.WaitForToolAsync($"{name}__echo");
        Assert.Equal(Quota, await TodayAsync(restarted));
        await using var again = await restarted.ConnectAsync(Key);
        var refused = await LimitRefusals.ErrorOfAsync(() => Echo(again, $"{name}__echo", "after restart"));
        Assert.Equal("dailyQuota", refused.GetProperty("data").GetProperty("limit").GetString());
        Assert.Equal(before + Quota, CallLog.Count(name, "echo"));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACallInFlightOnOneInstance_TakesTheConcurrencySlotOnTheOther_UntilItEnds(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var name = "cc" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var shared = await SharedDatabase.CreateAsync(provider, "limits");
        var settings = shared.Settings(Http(name, url), Agent("spender", Key, $"{name}/*"), new Dictionary<string, string?> { ["Gateway:Agents:spender:Limits:MaxConcurrent"] = "1" });
        await using var a = await GatewayHost.StartAsync(settings);
        await using var b = await GatewayHost.StartAsync(settings);
        await a.WaitForToolAsync($"{name}__slow");
        await b.WaitForToolAsync($"{name}__echo");
        await using var onA = await a.ConnectAsync(Key);
        await using var onB = await b.ConnectAsync(Key);

        // A holds the agent's one slot with a call that runs until cancelled.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        var slowBefore = CallLog.Count(name, "slow");
        var slow = onA.CallToolAsync($"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 120_000 }, cancellationToken: cancel.Token).AsTask();
        await Eventually.TrueAsync(() => CallLog.Count(name, "slow") == slowBefore + 1, "the slow call reached the upstream");

        // B learns of it at its next exchange, and refuses the agent's call there; nothing reaches the upstream.
        var echoBefore = CallLog.Count(name, "echo");
        await Eventually.TrueAsync(async () => await InFlightAsync(b) == 1, "B counts the call in flight on A");
        // A concurrency refusal is not a window: its JSON-RPC error alone, no 429.
        var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => Echo(onB, $"{name}__echo", "second"));
        Assert.Equal("maxConcurrent", refused.Data["limit"]);
        Assert.Contains("Concurrency limit reached: agent 'spender' may have 1 tool calls in flight at once", refused.Message, StringComparison.Ordinal);
        Assert.Equal(echoBefore, CallLog.Count(name, "echo"));

        // The call on A ends: B lets the agent call again once it has heard.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        await Eventually.TrueAsync(async () => await InFlightAsync(b) == 0, "B sees the slot free");
        Assert.NotEqual(true, (await Echo(onB, $"{name}__echo", "now")).IsError);
    }

    private static async Task<int> InFlightAsync(GatewayHost gateway) =>
        (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/spender", TestContext.Timeout)).GetProperty("usage").GetProperty("inFlight").GetInt32();

    private static Task<ModelContextProtocol.Protocol.CallToolResult> Echo(McpClient client, string tool, string message) =>
        client.CallToolAsync(tool, new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout).AsTask();

    private static async Task<int> TodayAsync(GatewayHost gateway) =>
        (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/spender", TestContext.Timeout)).GetProperty("usage").GetProperty("today").GetInt32();
}
