using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Approvals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Approvals;

/// <summary>Escalated calls are held until a human decides, through the real endpoint, with a real upstream and database.</summary>
public sealed class ApprovalIntegrationTests : IAsyncLifetime
{
    private const string Key = "approval-agent-key-01234";
    private readonly string _name = "ap" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    private Dictionary<string, string?> Config(Dictionary<string, string?>? extra = null) => Merge(
        Http(_name, _url),
        Agent("agent", Key, $"{_name}/*"),
        new Dictionary<string, string?>
        {
            ["Gateway:Policies:hold-echo:Effect"] = "escalate",
            ["Gateway:Policies:hold-echo:Tools:0"] = "echo",
            ["Gateway:Policies:hold-echo:Reason"] = "echo needs a human",
            ["Gateway:Approvals:PollInterval"] = "00:00:00.100",
            ["Gateway:Approvals:HeartbeatInterval"] = "00:00:00.200",
        },
        extra ?? []);

    private async Task<GatewayHost> StartAsync(Dictionary<string, string?>? extra = null, string? directory = null, DatabaseProvider provider = DatabaseProvider.Sqlite, List<string>? logs = null)
    {
        var gateway = await GatewayHost.StartAsync(provider, Config(extra), directory, logs);
        await gateway.WaitForToolAsync($"{_name}__echo");
        return gateway;
    }

    private static Dictionary<string, object?> Message(string text) => new() { ["message"] = text };

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    /// <summary>Waits for the next pending approval, event-driven.</summary>
    private static Task<Approval> NextPendingAsync(GatewayHost gateway)
    {
        var pending = new TaskCompletionSource<Approval>(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = gateway.Services.GetRequiredService<ApprovalEvents>();
        void Handler(Approval a)
        {
            if (a.Status == ApprovalStatus.Pending)
            {
                pending.TrySetResult(a);
                events.Changed -= Handler;
            }
        }

        events.Changed += Handler;
        return pending.Task.WaitAsync(TestContext.Timeout);
    }

    /// <summary>Makes a call that policy holds for approval; yields the held call and its pending approval.</summary>
    private async Task<(Task<CallToolResult> Call, Approval Approval)> HoldAsync(GatewayHost gateway, McpClient client, string message)
    {
        var pending = NextPendingAsync(gateway);
        var call = client.CallToolAsync($"{_name}__echo", Message(message), cancellationToken: TestContext.Timeout).AsTask();
        return (call, await pending);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task HeldCall_ApprovedThroughTheApi_RunsOnce_WithTheExactArguments(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider: provider);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");
        var (call, approval) = await HoldAsync(gateway, client, "ship it");
        Assert.False(call.IsCompleted);
        Assert.Equal(("agent", _name, "echo", "hold-echo"), (approval.Agent, approval.Server, approval.Tool, approval.Rule));
        Assert.Equal("""{"message":"ship it"}""", approval.ArgumentsJson);
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        using var approve = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { reason = "looks fine" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        Assert.Equal("echo: ship it", Text(await call));
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));
        var after = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/approvals/{approval.Id}", TestContext.Timeout);
        Assert.Equal("executed", after.GetProperty("status").GetString());
        Assert.Equal("admin-api", after.GetProperty("decidedBy").GetString());
    }

    [Fact]
    public async Task AHeldCall_WhoseKeyIsRevokedWhileItWaits_EndsAtOnce_AndIsNotMade_WhenApproved()
    {
        // 2026-07-28: no session to end with the key; the waiting request itself is ended, and the approval runs nothing.
        await using var gateway = await StartAsync();
        var created = await Gateway.Tests.Web.Authentication.AgentAuthenticationTests.CreateAgentAsync(gateway, "leaver", $"{_name}/*");
        await using var client = await gateway.ConnectAsync(created.GetProperty("apiKey").GetString()!, "2026-07-28");
        var before = CallLog.Count(_name, "echo");
        var (call, approval) = await HoldAsync(gateway, client, "after I left");

        using (var revoke = await gateway.Admin.DeleteAsync($"/api/v1/agents/leaver/keys/{created.GetProperty("keyId").GetInt64()}", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var result = await call;
        Assert.True(result.IsError);
        Assert.Equal(Gateway.Web.Mcp.GatewayMcpHandlers.CallerEnded, Text(result));

        using (var approve = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { reason = "fine" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        }

        Assert.Equal(before, CallLog.Count(_name, "echo"));
        var entry = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall && r.Actor == "leaver");
        Assert.Equal(AuditOutcomes.Cancelled, entry.Outcome);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnApproverWhoOwnsTheAgent_CannotApproveItsCall_WhenSelfApprovalIsForbidden(bool forbidden)
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:ForbidSelfApproval"] = forbidden.ToString() });
        using var april = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "april", ConsoleRoles.Approver);
        using var bruno = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "bruno", ConsoleRoles.Approver);
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "aprils-bot", grants = new[] { $"{_name}/*" }, owner = "april" }, TestContext.Timeout);
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
        await using var client = await gateway.ConnectAsync(key);
        var before = CallLog.Count(_name, "echo");
        var (call, approval) = await HoldAsync(gateway, client, "mine");

        using var own = await april.Client.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { }, TestContext.Timeout);
        if (forbidden)
        {
            Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
            Assert.Contains("another approver", await own.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
            Assert.False(call.IsCompleted);
            Assert.Equal(ApprovalStatus.Pending, (await gateway.Services.GetRequiredService<IApprovalStore>().GetAsync(approval.Id, TestContext.Timeout))!.Status);

            using var other = await bruno.Client.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        Assert.Equal("echo: mine", Text(await call));
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));
        var decided = await gateway.Services.GetRequiredService<IApprovalStore>().GetAsync(approval.Id, TestContext.Timeout);
        Assert.Equal(forbidden ? "bruno" : "april", decided!.DecidedBy);
    }

    [Fact]
    public async Task Denied_IsAToolErrorNamingTheDecision_AndNeverReachesTheUpstream()
    {
        var warnings = new List<string>();
        await using var gateway = await StartAsync(logs: warnings);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");
        var pending = NextPendingAsync(gateway);
        var call = client.CallToolAsync($"{_name}__echo", Message("drop table"), cancellationToken: TestContext.Timeout).AsTask();

        using var deny = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{(await pending).Id}/deny", new { reason = "not today" }, TestContext.Timeout);
        var result = await call;
        Assert.True(result.IsError);
        Assert.Matches(@"^Denied by admin-api \(approval apr_[0-9a-f]+\): not today$", Text(result));
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        // The held call's path logs no warning (EF Core warned of a limit without an order at the first escalation).
        Assert.DoesNotContain(warnings, w => w.Contains("row limiting operator", StringComparison.Ordinal));
    }

    // The reason goes into the append-only audit trail, its SIEM events and the agent's error: 1,000 characters at most.
    [Fact]
    public async Task ADecisionsReason_IsTakenUpToItsLimit_AndOneLongerIsRefusedWith400_NothingDecided()
    {
        await using var gateway = await StartAsync();
        await using var client = await gateway.ConnectAsync(Key);
        var (call, held) = await HoldAsync(gateway, client, "drop table");
        var id = held.Id;

        using var tooLong = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/deny", new { reason = new string('r', ApprovalGate.MaxReasonLength + 1) }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("at most 1000 characters", await tooLong.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        Assert.False(call.IsCompleted, "the call ended although nothing was decided");

        var atLimit = new string('r', ApprovalGate.MaxReasonLength);
        using var deny = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/deny", new { reason = atLimit }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, deny.StatusCode);
        Assert.EndsWith(": " + atLimit, Text(await call), StringComparison.Ordinal);
    }

    // Each pending approval holds the call's arguments and asks a human: an agent escalating new arguments without end
    // is held to Gateway:Approvals:MaxPendingPerAgent, the one beyond denied at once with the reason, and audited.
    [Fact]
    public async Task AnAgentsPendingApprovals_AreBounded_TheOneBeyondDeniedAtOnce_AndADecisionMakesRoom()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:MaxPendingPerAgent"] = "3" });
        await using var client = await gateway.ConnectAsync(Key);
        var held = Enumerable.Range(0, 3)
            .Select(i => client.CallToolAsync($"{_name}__echo", Message($"held {i}"), cancellationToken: TestContext.Timeout).AsTask())
            .ToList();
        var pending = await WaitForPendingAsync(gateway, 3);

        var beyond = await client.CallToolAsync($"{_name}__echo", Message("one more"), cancellationToken: TestContext.Timeout);
        Assert.True(beyond.IsError);
        Assert.Contains("already has 3 calls waiting for approval", Text(beyond), StringComparison.Ordinal);
        Assert.Equal(3, (await WaitForPendingAsync(gateway, 3)).Count);
        Assert.Contains(
            (await gateway.AuditTrailAsync()).Select(e => e.Record),
            r => r.Kind == AuditKinds.ToolCall && r.Decision == "escalate" && r.Error?.Contains("already has 3 calls waiting", StringComparison.Ordinal) == true);

        // A decision makes room for the next one.
        using var deny = await gateway.Admin.PostAsync($"/api/v1/approvals/{pending[0].GetProperty("id").GetString()}/deny", null, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, deny.StatusCode);
        var next = NextPendingAsync(gateway);
        var another = client.CallToolAsync($"{_name}__echo", Message("after a decision"), cancellationToken: TestContext.Timeout).AsTask();
        Assert.Contains("after a decision", (await next).ArgumentsJson, StringComparison.Ordinal);
        Assert.False(another.IsCompleted);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("7")]
    public async Task AnUnknownStatusFilter_IsRefusedWith400_NotIgnored(string status)
    {
        await using var gateway = await StartAsync();

        using var response = await gateway.Admin.GetAsync($"/api/v1/approvals?status={status}", TestContext.Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The status is one of all, pending", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        using var all = await gateway.Admin.GetAsync("/api/v1/approvals?status=all", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
    }

    [Fact]
    public async Task Expired_IsDeniedWithAClearMessage_AndRecordedAsExpired()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:Timeout"] = "00:00:01" });
        await using var client = await gateway.ConnectAsync(Key);

        var result = await client.CallToolAsync($"{_name}__echo", Message("late"), cancellationToken: TestContext.Timeout);
        Assert.True(result.IsError);
        Assert.Contains("expired", Text(result), StringComparison.Ordinal);
        var expired = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals?status=expired", TestContext.Timeout);
        Assert.Equal(1, expired.GetArrayLength());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnExpiryWhoseEntryCannotBeWritten_IsNotRecorded_NorDecidable_AndTheCallIsNotMade(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:Timeout"] = "00:00:01" }, provider: provider);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");
        var pending = NextPendingAsync(gateway);

        // The approval runs out while the trail refuses the expiry's entry: the agent is told it expired, nothing runs,
        // and the approval is not marked expired without its entry.
        string id;
        await using (await AuditRefusals.RefuseAsync(gateway.Database, "approval_expired", tool: null))
        {
            var call = client.CallToolAsync($"{_name}__echo", Message("expires unrecorded"), cancellationToken: TestContext.Timeout).AsTask();
            id = (await pending).Id;
            var result = await call;
            Assert.True(result.IsError);
            Assert.Contains($"Approval {id} expired at", Text(result), StringComparison.Ordinal);
        }

        var store = gateway.Services.GetRequiredService<IApprovalStore>();
        Assert.Equal(ApprovalStatus.Pending, (await store.GetAsync(id, TestContext.Timeout))!.Status);
        Assert.DoesNotContain(await gateway.AuditTrailAsync(), e => e.Record.Kind == "approval_expired");
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        // Past its time nobody can approve it.
        using (var late = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/approve", new { reason = "too late" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        }

        // Once the trail takes entries again an expiry is recorded with its entry (the retry is a new request: the first
        // one's time has run out).
        var retried = await client.CallToolAsync($"{_name}__echo", Message("expires unrecorded"), cancellationToken: TestContext.Timeout);
        Assert.True(retried.IsError);
        var recorded = Assert.Single(await gateway.AuditTrailAsync(), e => e.Record.Kind == "approval_expired");
        Assert.DoesNotContain(id, recorded.Record.Error, StringComparison.Ordinal);
        Assert.Equal(before, CallLog.Count(_name, "echo"));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnApprovalNoCallWaitsOn_IsRecordedAsExpired_OnceItsTimeRunsOut(DatabaseProvider provider)
    {
        // The approval outlives the hold by 4 s: a call held for 1 s on a busy machine (the whole suite running) answered
        // after the approval's 2 s had run out, and was told it expired instead of pending.
        await using var gateway = await StartAsync(
            new() { ["Gateway:Approvals:Timeout"] = "00:00:05", ["Gateway:Approvals:HoldFor"] = "00:00:01", ["Gateway:Approvals:ExpirySweep"] = "00:00:01" },
            provider: provider);
        await using var client = await gateway.ConnectAsync(Key);

        // Held for 1 s, told to retry after approval, and never retried: nobody waits on the approval any more.
        var first = await client.CallToolAsync($"{_name}__echo", Message("abandoned"), cancellationToken: TestContext.Timeout);
        var id = System.Text.RegularExpressions.Regex.Match(Text(first), "apr_[0-9a-f]+").Value;
        Assert.StartsWith($"Approval pending, id {id}: retry the same call after approval", Text(first), StringComparison.Ordinal);

        // Once its time has run out the sweep records its expiry, with its entry, once.
        var store = gateway.Services.GetRequiredService<IApprovalStore>();
        await Eventually.TrueAsync(async () => (await store.GetAsync(id, TestContext.Timeout))!.Status == ApprovalStatus.Expired, "the abandoned approval is expired", TimeSpan.FromSeconds(30));
        var expired = Assert.Single(await gateway.AuditTrailAsync(), e => e.Record.Kind == "approval_expired");
        Assert.StartsWith(id, expired.Record.Error, StringComparison.Ordinal);
        Assert.Equal("gateway", expired.Record.Actor);

        // Listed as expired, no longer among the pending ones an approver is shown.
        var listed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals?status=expired", TestContext.Timeout);
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(0, (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals", TestContext.Timeout)).GetArrayLength());
    }

    [SkippableFact]
    public async Task AHeldCall_WithoutAProgressToken_ThroughAProxyThatCutsSilence_StaysOpenUntilApproved()
    {
        // A reverse proxy cuts a response silent for 4 s; the gateway pings the held call's agent every second instead.
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:HeartbeatInterval"] = "00:00:01" });
        using var proxy = await Balancer.StartAsync([gateway.BaseUri], TimeSpan.FromSeconds(4));
        await using var client = await GatewayHost.ConnectAsync(new Uri(proxy.BaseUri, "/mcp"), Key, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        var (call, approval) = await HoldAsync(gateway, client, "hold on");

        // The condition under test, not a synchronisation: the approver takes longer than the proxy lets a response be silent.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(call.IsCompleted, call.Exception?.GetBaseException().Message ?? "the held call ended before the decision");

        using var approve = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { reason = "fine" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        Assert.Equal("echo: hold on", Text(await call));
    }

    [Theory]
    [InlineData("ExpirySweep", "00:00:00.999", false, "between 1 second and one hour")]
    [InlineData("ExpirySweep", "01:00:00.001", false, "between 1 second and one hour")]
    [InlineData("ExpirySweep", "00:00:01", true, "")]
    [InlineData("WebhookTimeout", "00:00:00.999", false, "between 1 second and one minute")]
    [InlineData("WebhookTimeout", "00:01:00.001", false, "between 1 second and one minute")]
    [InlineData("WebhookTimeout", "00:01:00", true, "")]
    [InlineData("HeartbeatInterval", "00:00:00.099", false, "between 100 ms and 10 minutes")]
    [InlineData("HeartbeatInterval", "00:10:00.001", false, "between 100 ms and 10 minutes")]
    [InlineData("HeartbeatInterval", "00:10:00", true, "")]
    [InlineData("PollInterval", "00:00:00.009", false, "between 10 ms and one hour")]
    [InlineData("PollInterval", "01:00:00.001", false, "between 10 ms and one hour")]
    [InlineData("PollInterval", "00:00:00.010", true, "")]
    [InlineData("PollInterval", "01:00:00", true, "")]
    public async Task ADurationOutsideItsRange_StopsTheStart(string setting, string value, bool starts, string range)
    {
        var key = $"Gateway:Approvals:{setting}";
        if (starts)
        {
            await using var gateway = await StartAsync(new() { [key] = value });
            var options = gateway.Services.GetRequiredService<ApprovalOptions>();
            Assert.Equal(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), typeof(ApprovalOptions).GetProperty(setting)!.GetValue(options));
            return;
        }

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new() { [key] = value }));
        Assert.Contains($"{key} must be {range}", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentThatStoppedWaiting_RetriesAfterApproval_AndTheCallRunsOnce()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:HoldFor"] = "00:00:01" });
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");

        // Held for 1 s, then told to retry after approval; the approval stays pending.
        var first = await client.CallToolAsync($"{_name}__echo", Message("deploy"), cancellationToken: TestContext.Timeout);
        var id = System.Text.RegularExpressions.Regex.Match(Text(first), "apr_[0-9a-f]+").Value;
        Assert.StartsWith($"Approval pending, id {id}: retry the same call after approval", Text(first), StringComparison.Ordinal);

        using var approve = await gateway.Admin.PostAsync($"/api/v1/approvals/{id}/approve", null, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);

        // Different arguments are a different call: held again.
        var other = await client.CallToolAsync($"{_name}__echo", Message("deploy everything"), cancellationToken: TestContext.Timeout);
        Assert.StartsWith("Approval pending", Text(other), StringComparison.Ordinal);

        // The same call runs, once; a second identical retry needs a new approval.
        Assert.Equal("echo: deploy", Text(await client.CallToolAsync($"{_name}__echo", Message("deploy"), cancellationToken: TestContext.Timeout)));
        var again = await client.CallToolAsync($"{_name}__echo", Message("deploy"), cancellationToken: TestContext.Timeout);
        Assert.StartsWith("Approval pending", Text(again), StringComparison.Ordinal);
        Assert.DoesNotContain(id, Text(again), StringComparison.Ordinal);
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoRacingDecisions_OneWins_TheOtherGets409(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider: provider);
        await using var client = await gateway.ConnectAsync(Key);
        var (call, held) = await HoldAsync(gateway, client, "race");
        var id = held.Id;

        var decisions = await Task.WhenAll(
            gateway.Admin.PostAsync($"/api/v1/approvals/{id}/approve", null, TestContext.Timeout),
            gateway.Admin.PostAsync($"/api/v1/approvals/{id}/deny", null, TestContext.Timeout));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], decisions.Select(d => d.StatusCode).Order());
        var won = decisions.Single(d => d.StatusCode == HttpStatusCode.OK);
        var result = await call;
        Assert.Equal(won.RequestMessage!.RequestUri!.AbsolutePath.EndsWith("/approve", StringComparison.Ordinal), result.IsError != true);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ADecisionWhoseEntryCannotBeWritten_IsNotMade_The503SaysSo_AndTheCallStaysHeld(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider: provider);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");
        var (call, held) = await HoldAsync(gateway, client, "audited decision");
        var id = held.Id;

        // The decision and its entry commit together: without the entry there is no decision, and no call runs.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, "approval_approved", tool: null))
        {
            using var refused = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/approve", new { reason = "fine" }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("its audit entry could not be written", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(ApprovalStatus.Pending, (await gateway.Services.GetRequiredService<IApprovalStore>().GetAsync(id, TestContext.Timeout))!.Status);
        Assert.False(call.IsCompleted);
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        using (var approved = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/approve", new { reason = "fine" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        Assert.Equal("echo: audited decision", Text(await call));
        var decisions = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == "approval_approved").ToList();
        Assert.Equal($"{id}: fine", Assert.Single(decisions).Error);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ARequestWhoseEntryCannotBeWritten_IsNotPutToAnApprover_AndARequestIsInTheTrailBeforeItsDecision(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider: provider);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");

        // No approval without its request's entry: the agent is told, nobody is asked, nothing runs.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, "approval_requested", tool: null))
        {
            var refused = await client.CallToolAsync($"{_name}__echo", Message("unrecorded"), cancellationToken: TestContext.Timeout);
            Assert.True(refused.IsError);
            Assert.Contains("The audit trail is unavailable, so the call was not put to an approver", Text(refused), StringComparison.Ordinal);
        }

        Assert.Empty(await gateway.Services.GetRequiredService<IApprovalStore>().ListAsync(null, 10, TestContext.Timeout));
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        // Decided as soon as it is listed: its request's entry comes first in the trail (it used to be queued, and a
        // quick decision, committed with its own entry, could come before it).
        var (call, held) = await HoldAsync(gateway, client, "ordered");
        var id = held.Id;
        using (var approved = await gateway.Admin.PostAsync($"/api/v1/approvals/{id}/approve", null, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        Assert.Equal("echo: ordered", Text(await call));
        var steps = (await gateway.AuditTrailAsync()).Where(e => e.Record.Error?.StartsWith(id, StringComparison.Ordinal) == true).Select(e => e.Record.Kind).ToList();
        Assert.Equal(["approval_requested", "approval_approved"], steps);
    }

    [Fact]
    public async Task FiftyConcurrentHeldCalls_AreAllPending_AndAllRunOnceWhenApproved()
    {
        await using var gateway = await StartAsync();
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");
        var calls = Enumerable.Range(0, 50).Select(i => client.CallToolAsync($"{_name}__echo", Message("n" + i), cancellationToken: TestContext.Timeout).AsTask()).ToList();

        var pending = await WaitForPendingAsync(gateway, 50);
        foreach (var approval in pending)
        {
            using var ok = await gateway.Admin.PostAsync($"/api/v1/approvals/{approval.GetProperty("id").GetString()}/approve", null, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var results = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "echo: n" + i).Order(), results.Select(Text).Order());
        Assert.Equal(before + 50, CallLog.Count(_name, "echo"));
    }

    [Fact]
    public async Task PendingApproval_SurvivesARestart_AndTheRetryRunsOnce()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string id;
            await using (var first = await StartAsync(new() { ["Gateway:Approvals:HoldFor"] = "00:00:01" }, directory))
            {
                await using var client = await first.ConnectAsync(Key);
                id = System.Text.RegularExpressions.Regex.Match(Text(await client.CallToolAsync($"{_name}__echo", Message("after restart"), cancellationToken: TestContext.Timeout)), "apr_[0-9a-f]+").Value;
            }

            await using var second = await StartAsync(new() { ["Gateway:Approvals:HoldFor"] = "00:00:01" }, directory);
            var pending = await second.Admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals", TestContext.Timeout);
            Assert.Equal(id, Assert.Single(pending.EnumerateArray()).GetProperty("id").GetString());
            var before = CallLog.Count(_name, "echo");

            using var approve = await second.Admin.PostAsync($"/api/v1/approvals/{id}/approve", null, TestContext.Timeout);
            Assert.Equal(before, CallLog.Count(_name, "echo"));
            await using var retry = await second.ConnectAsync(Key);
            Assert.Equal("echo: after restart", Text(await retry.CallToolAsync($"{_name}__echo", Message("after restart"), cancellationToken: TestContext.Timeout)));
            Assert.Equal(before + 1, CallLog.Count(_name, "echo"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task WaitingAgent_GetsProgressNamingTheApproval()
    {
        await using var gateway = await StartAsync();
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");
        var heard = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = NextPendingAsync(gateway);
        var call = client.CallToolAsync($"{_name}__echo", Message("with progress"), new SynchronousProgress(v => heard.TrySetResult(v.Message ?? string.Empty)), cancellationToken: TestContext.Timeout).AsTask();

        var approval = await pending;
        Assert.Contains(approval.Id, await heard.Task.WaitAsync(TestContext.Timeout), StringComparison.Ordinal);
        using var approve = await gateway.Admin.PostAsync($"/api/v1/approvals/{approval.Id}/approve", null, TestContext.Timeout);
        Assert.Equal("echo: with progress", Text(await call));
    }

    [Fact]
    public async Task NewApproval_IsPostedToTheWebhook_AndEveryStepIsAudited()
    {
        var received = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var hook = builder.Build();
        hook.MapPost("/hook", async (HttpRequest request) =>
        {
            received.TrySetResult(await request.ReadFromJsonAsync<JsonElement>());
            return Results.Ok();
        });
        await hook.StartAsync();

        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:WebhookUrl"] = hook.Urls.First() + "/hook" });
        await using var client = await gateway.ConnectAsync(Key);
        var call = client.CallToolAsync($"{_name}__echo", Message("notify"), cancellationToken: TestContext.Timeout).AsTask();

        var posted = await received.Task.WaitAsync(TestContext.Timeout);
        Assert.Equal(("approval.pending", "agent", "echo", "hold-echo"), (posted.GetProperty("event").GetString(), posted.GetProperty("agent").GetString(), posted.GetProperty("tool").GetString(), posted.GetProperty("rule").GetString()));
        var id = posted.GetProperty("id").GetString()!;
        using var approve = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{id}/approve", new { reason = "ok by me" }, TestContext.Timeout);
        await call;

        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var steps = db.AuditEntries.Where(a => a.Kind != Gateway.Core.Audit.AuditKinds.ToolCallStarted && a.Kind != Gateway.Core.Audit.AuditKinds.AdminChange).OrderBy(a => a.Sequence).Select(a => new { a.Kind, a.Actor, a.Decision, a.Outcome, a.Error }).ToList();
        Assert.Equal(
            [("approval_requested", "agent", "escalate"), ("approval_approved", "admin-api", "approve"), ("tool_call", "agent", "escalate")],
            steps.Select(s => (s.Kind, s.Actor, s.Decision)));
        Assert.Equal("ok", steps[2].Outcome);
        Assert.Contains("ok by me", steps[1].Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hooks.example.com/approvals", false)]
    [InlineData("ftp://hooks.example.com/approvals", false)]
    [InlineData("/approvals", false)]
    [InlineData("https://hooks.example.com/approvals?token=s3cret", true)]
    public async Task TheWebhookUrl_IsAnAbsoluteHttpUrl_CheckedAtStart(string url, bool starts)
    {
        if (starts)
        {
            await using var gateway = await StartAsync(new() { ["Gateway:Approvals:WebhookUrl"] = url });
            Assert.Equal(url, gateway.Services.GetRequiredService<ApprovalOptions>().WebhookUrl);
            return;
        }

        // Refused at start, not at the first approval; the message does not repeat the URL, which may carry a token.
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new() { ["Gateway:Approvals:WebhookUrl"] = url }));
        Assert.Contains("Gateway:Approvals:WebhookUrl must be an absolute http or https URL", refused.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hooks.example.com", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWebhookThatHangs_HoldsAtMostItsCapOfPosts_AndServesAgainOnceItAnswers()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = 0;
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var hook = builder.Build();
        hook.MapPost("/hook", async () =>
        {
            Interlocked.Increment(ref received);
            await release.Task;
            return Results.Ok();
        });
        await hook.StartAsync();

        var logs = new List<string>();
        int NotPosted() { lock (logs) { return logs.Count(l => l.Contains("was not posted to the webhook", StringComparison.Ordinal)); } }
        // The posts wait up to a minute, so none gives up (freeing its place) before the test has made every approval.
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:WebhookUrl"] = hook.Urls.First() + "/hook", ["Gateway:Approvals:WebhookTimeout"] = "00:01:00" }, logs: logs);
        await using var client = await gateway.ConnectAsync(Key);

        // Four approvals more than the cap, while the webhook answers none.
        var extra = 4;
        var calls = Enumerable.Range(0, ApprovalWebhook.MaxInFlight + extra)
            .Select(i => client.CallToolAsync($"{_name}__echo", Message($"burst {i}"), cancellationToken: TestContext.Timeout).AsTask())
            .ToList();
        await WaitForPendingAsync(gateway, ApprovalWebhook.MaxInFlight + extra);
        await Eventually.TrueAsync(() => Task.FromResult(NotPosted() == extra && Volatile.Read(ref received) == ApprovalWebhook.MaxInFlight), () => $"{extra} approvals are not posted and {ApprovalWebhook.MaxInFlight} reach the webhook ({NotPosted()} and {Volatile.Read(ref received)})", TimeSpan.FromSeconds(30));

        // Once the webhook answers, the next approval is posted again.
        release.SetResult();
        var next = client.CallToolAsync($"{_name}__echo", Message("after"), cancellationToken: TestContext.Timeout).AsTask();
        await Eventually.TrueAsync(() => Volatile.Read(ref received) == ApprovalWebhook.MaxInFlight + 1, "the approval after the webhook answered reaches it", TimeSpan.FromSeconds(30));
        Assert.Equal(extra, NotPosted());

        foreach (var approval in await WaitForPendingAsync(gateway, ApprovalWebhook.MaxInFlight + extra + 1))
        {
            using var deny = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.GetProperty("id").GetString()}/deny", new { reason = "test over" }, TestContext.Timeout);
        }

        await Task.WhenAll([.. calls, next]);
    }

    private static async Task<List<JsonElement>> WaitForPendingAsync(GatewayHost gateway, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var pending = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals", TestContext.Timeout);
            if (pending.GetArrayLength() == count)
            {
                return [.. pending.EnumerateArray()];
            }

            Assert.True(DateTime.UtcNow < deadline, $"{pending.GetArrayLength()} of {count} approvals pending after 30 s");
            await Task.Delay(50);
        }
    }

    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
