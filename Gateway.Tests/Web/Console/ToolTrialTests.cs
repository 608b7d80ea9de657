using System.Net.Http.Json;
using System.Security.Claims;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Approvals;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Gateway.Web.Admin.Tools;
using Gateway.Web.Console;
using Gateway.Web.Policy;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>
/// "Try it" on a real gateway against a real HTTP test upstream: the call goes through the pipeline as the console
/// user (allowed calls reach the upstream, blocked ones do not, escalated ones wait for approval) and the audit names
/// the console user; a class changed from the console is an audited admin change of that user.
/// </summary>
public sealed class ToolTrialTests : IAsyncLifetime
{
    private readonly string _name = "tt" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    private async Task<GatewayHost> StartAsync()
    {
        var gateway = await GatewayHost.StartAsync(Merge(Http(_name, _url), new Dictionary<string, string?>
        {
            ["Gateway:Policies:no-danger:Effect"] = "block",
            ["Gateway:Policies:no-danger:Tools:0"] = "echo",
            ["Gateway:Policies:no-danger:Conditions:0:Path"] = "message",
            ["Gateway:Policies:no-danger:Conditions:0:Op"] = "equals",
            ["Gateway:Policies:no-danger:Conditions:0:Value"] = "danger",
            ["Gateway:Policies:no-danger:Reason"] = "dangerous message",
            ["Gateway:Approvals:HoldFor"] = "00:00:00.300",
        }));
        await gateway.WaitForToolAsync($"{_name}__echo");
        return gateway;
    }

    [Fact]
    public async Task TryIt_ReachesTheUpstream_UnderPolicy_AndIsAuditedAsTheConsoleUser()
    {
        await using var gateway = await StartAsync();
        var trial = gateway.Services.GetRequiredService<ToolTrial>();
        var before = CallLog.Count(_name, "echo");

        var ok = await trial.CallAsync("alice", $"{_name}__echo", """{"message":"from the console"}""", TestContext.Timeout);
        Assert.Empty(ok.Errors);
        Assert.Equal(("ok", "echo: from the console"), (ok.Outcome, ok.Text));
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));
        Assert.Contains("from the console", CallLog.Details(_name, "echo"));

        // Blocked by the same rule an agent's call meets: refused, never forwarded.
        var blocked = await trial.CallAsync("alice", $"{_name}__echo", """{"message":"danger"}""", TestContext.Timeout);
        Assert.Equal("refused", blocked.Outcome);
        Assert.Equal("Blocked by policy rule 'no-danger': dangerous message", blocked.Text);
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall).ToList();
        var mine = trail.Where(r => r.Actor == "console:alice").ToList();
        Assert.Equal(2, mine.Count);
        Assert.Equal(($"{_name}__echo", _name, "allow", AuditOutcomes.Ok), (mine[0].Tool, mine[0].Server, mine[0].Decision, mine[0].Outcome));
        Assert.NotNull(mine[0].ResultSha256);
        Assert.Equal(("block", "no-danger", AuditOutcomes.Denied), (mine[1].Decision, mine[1].Rule, mine[1].Outcome));
    }

    [Fact]
    public async Task TryIt_OfADestructiveTool_WaitsForApproval_InTheConsoleUsersName()
    {
        await using var gateway = await StartAsync();
        Assert.True((await AsConsoleAdmin<ToolClassOperations, AdminResult>(gateway, "bob", o => o.SetClassAsync(_name, "echo", "destructive", TestContext.Timeout))).IsDone);

        await gateway.Upstreams.WaitUntilAsync(c => c.Tools.TryResolve($"{_name}__echo", out var e) && e.Class == Gateway.Core.Policy.AccessClass.Destructive, TestContext.Timeout);
        var before = CallLog.Count(_name, "echo");

        var held = await gateway.Services.GetRequiredService<ToolTrial>().CallAsync("bob", $"{_name}__echo", """{"message":"rm"}""", TestContext.Timeout);
        Assert.Equal("refused", held.Outcome);
        Assert.StartsWith("Approval pending, id apr_", held.Text, StringComparison.Ordinal);
        Assert.Equal(before, CallLog.Count(_name, "echo"));
        var approval = await gateway.Services.GetRequiredService<ApprovalGate>().GetAsync(System.Text.RegularExpressions.Regex.Match(held.Text!, "apr_[0-9a-f]+").Value, TestContext.Timeout);
        Assert.Equal(("console:bob", "echo"), (approval!.Agent, approval.Tool));

        // Not approvable by the user who tried it (self-approval is forbidden by default); another admin's approval
        // lets the same trial run once.
        var gate = gateway.Services.GetRequiredService<ApprovalGate>();
        Assert.Equal(DecisionResult.SelfApprovalForbidden, await gate.DecideAsync(approval.Id, true, "bob", null, TestContext.Timeout));
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, true, "carol", null, TestContext.Timeout));
        var ran = await gateway.Services.GetRequiredService<ToolTrial>().CallAsync("bob", $"{_name}__echo", """{"message":"rm"}""", TestContext.Timeout);
        Assert.Equal(("ok", "echo: rm"), (ran.Outcome, ran.Text));
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));

        // The class change is an admin change of the console user, with before and after.
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        var change = Assert.Single(trail, r => r.Kind == AuditKinds.AdminChange && r.Tool == $"tool_class/{_name}/echo");
        Assert.Equal("console:bob", change.Actor);
        Assert.Contains(trail, r => r.Kind == "approval_requested" && r.Actor == "console:bob");
    }

    [Fact]
    public async Task TryIt_RefusesBadInput_NextToItsField_AndCallsNothing()
    {
        await using var gateway = await StartAsync();
        var trial = gateway.Services.GetRequiredService<ToolTrial>();
        var before = CallLog.Count(_name, "echo");

        var huge = await trial.CallAsync("alice", $"{_name}__echo", "{\"message\":\"" + new string('x', TrialArguments.MaxBytes) + "\"}", TestContext.Timeout);
        Assert.Equal(["Arguments are limited to 64 KiB of JSON."], huge.Errors["arguments"]);
        var missing = await trial.CallAsync("alice", $"{_name}__echo", "{}", TestContext.Timeout);
        Assert.Equal(["'message' is required."], missing.Errors["arguments"]);
        var typed = await trial.CallAsync("alice", $"{_name}__echo", """{"message":3}""", TestContext.Timeout);
        Assert.Equal(["'message' must be string."], typed.Errors["arguments"]);
        var array = await trial.CallAsync("alice", $"{_name}__echo", "[1]", TestContext.Timeout);
        Assert.Equal(["Arguments must be a JSON object."], array.Errors["arguments"]);
        var unknown = await trial.CallAsync("alice", $"{_name}__nope", "{}", TestContext.Timeout);
        Assert.Contains("No connected tool", Assert.Single(unknown.Errors["tool"]), StringComparison.Ordinal);

        Assert.Equal(before, CallLog.Count(_name, "echo"));
        Assert.DoesNotContain((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall);
    }

    [Fact]
    public async Task AccessPage_RendersInTheGateway_ForReaders_TryItForAdminsOnly()
    {
        await using var gateway = await StartAsync();
        Assert.True((await AsConsoleAdmin<AgentOperations, AdminResult<IssuedAgentKey>>(gateway, "admin", o => o.CreateAsync(new($"bot", [$"{_name}/*:read"]), TestContext.Timeout))).IsDone);

        using var auditor = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "audra", "Auditor");
        var html = System.Net.WebUtility.HtmlDecode(await auditor.Client.GetStringAsync("/access", TestContext.Timeout));
        Assert.Contains($"data-cell=\"bot|{_name}__add\"", html, StringComparison.Ordinal);
        Assert.Contains($"granted by '{_name}/*:read'", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"try-it\"", html, StringComparison.Ordinal);

        using var admin = ConsoleBrowser.For(gateway);
        await admin.SignInAsAdminAsync();
        Assert.Contains("id=\"try-it\"", await admin.Client.GetStringAsync("/access", TestContext.Timeout), StringComparison.Ordinal);

        // An Approver reads neither the matrix nor the classes.
        using var approver = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "april", Gateway.Core.Identity.ConsoleRoles.Approver);
        using var forbidden = await approver.Client.GetAsync("/access", TestContext.Timeout);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.DoesNotContain("href=\"/access\"", await approver.Client.GetStringAsync("/", TestContext.Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassChanges_FromTheApiAndTheConsole_AreOneCommand_WithOneValidation()
    {
        await using var gateway = await StartAsync();
        var console = (await AsConsoleAdmin<ToolClassOperations, AdminResult>(gateway, "admin", o => o.SetClassAsync(_name, "echo", "reed", TestContext.Timeout))).Errors;
        using var api = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_name}/tools/echo/class", new { @class = "reed" }, TestContext.Timeout);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, api.StatusCode);
        var problem = await api.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(TestContext.Timeout);
        Assert.Equal(Assert.Single(console["class"]), problem.GetProperty("errors").GetProperty("class")[0].GetString());

        using var set = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_name}/tools/echo/class", new { @class = "read" }, TestContext.Timeout);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, set.StatusCode);
        Assert.True(gateway.Upstreams.Catalog.Tools.TryResolve($"{_name}__echo", out var echo) && echo.Class == Gateway.Core.Policy.AccessClass.Read);
    }

    // What a console circuit of an Admin does: one scope whose actor is that user.
    private static async Task<T> AsConsoleAdmin<TOperations, T>(GatewayHost gateway, string user, Func<TOperations, Task<T>> run)
        where TOperations : notnull
    {
        using var scope = gateway.Services.CreateScope();
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, Gateway.Core.Identity.ConsoleRoles.Admin)], "test"));
        scope.ServiceProvider.GetRequiredService<AdminActor>().Set(principal, AuditActor.Console(user));
        return await run(scope.ServiceProvider.GetRequiredService<TOperations>());
    }
}
