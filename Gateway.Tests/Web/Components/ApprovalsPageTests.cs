using System.Text.Json;
using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Grants;
using Gateway.Core.Identity;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Tests.Support;
using Gateway.Web.Components.Pages;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>The Approvals page over real services and a real SQLite file: a held call appears live, and Approve releases it.</summary>
public sealed class ApprovalsPageTests : ConsolePageTest
{
    public ApprovalsPageTests()
        : base("approver-alice")
    {
        Services.AddSingleton<ApprovalEvents>();
        Services.AddGatewayAdminOperations();
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<IAuditSink, NullSink>();
        Services.AddSingleton<ApprovalGate>(sp => new ApprovalGate(
            sp.GetRequiredService<IApprovalStore>(), sp.GetRequiredService<ApprovalEvents>(), sp.GetRequiredService<IAuditSink>(), sp.GetRequiredService<ApprovalOptions>(), TimeProvider.System, sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<IConsoleUserStore>()));
    }

    [Fact]
    public async Task WhileTheDatabaseFails_ThePageKeepsItsLastListWithANotice_AndRecovers()
    {
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#no-pending")));
        var args = new Dictionary<string, JsonElement>();
        var gate = Services.GetRequiredService<ApprovalGate>();
        var held = gate.RequestAsync(
            new ApprovalRequest(new AgentIdentity(1, "payments-bot", GrantSet.None), "payments", "transfer", "def", args, CanonicalJson.Sha256(args), new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"), null),
            CancellationToken.None).AsTask();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));
        var approval = (await Services.GetRequiredService<IApprovalStore>().ListAsync(ApprovalStatus.Pending, 10, CancellationToken.None)).Single();

        // The table is gone (as a failing database would refuse the read) when another instance's change is seen: the
        // page stays, with its card and a notice, instead of ending the user's circuit; a click on Approve likewise.
        await DatabaseFiles.ExecuteAsync(DatabasePath, "ALTER TABLE Approvals RENAME TO ApprovalsAway");
        Services.GetRequiredService<ApprovalEvents>().RaiseObserved(approval);
        cut.WaitForAssertion(() => Assert.StartsWith("The database is unavailable", cut.Find("#approvals-unavailable").TextContent, StringComparison.Ordinal));
        Assert.Single(cut.FindAll(".approval-card"));
        await cut.InvokeAsync(() => cut.Find("button.approve").Click());
        Assert.False(held.IsCompleted);

        // Back: the next change reads again, and the call can be decided.
        await DatabaseFiles.ExecuteAsync(DatabasePath, "ALTER TABLE ApprovalsAway RENAME TO Approvals");
        Services.GetRequiredService<ApprovalEvents>().RaiseObserved(approval);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#approvals-unavailable")));
        await cut.InvokeAsync(() => cut.Find("button.approve").Click());
        Assert.True((await held.WaitAsync(TimeSpan.FromSeconds(20))).Approved);
    }

    [Fact]
    public async Task HeldCall_AppearsLive_WithItsArguments_AndApproveReleasesIt()
    {
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#no-pending")));

        var args = JsonDocument.Parse("""{"amount":5000,"to":"acme"}""").RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        var gate = Services.GetRequiredService<ApprovalGate>();
        var held = gate.RequestAsync(
            new ApprovalRequest(new AgentIdentity(1, "payments-bot", GrantSet.None), "payments", "transfer", "def", args, CanonicalJson.Sha256(args), new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"), null),
            CancellationToken.None).AsTask();

        // Pushed to the page: no refresh.
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));
        var card = cut.Find(".approval-card");
        Assert.Contains("payments / transfer", card.TextContent, StringComparison.Ordinal);
        Assert.Contains("payments-bot", card.TextContent, StringComparison.Ordinal);
        Assert.Contains("Rule 'big': large amount", card.TextContent, StringComparison.Ordinal);
        Assert.Contains("\"amount\": 5000", cut.Find(".approval-arguments").TextContent, StringComparison.Ordinal);
        Assert.False(held.IsCompleted);

        await cut.InvokeAsync(() => cut.Find("button.approve").Click());

        var verdict = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(verdict.Approved);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".approval-card")));
        var stored = (await Services.GetRequiredService<IApprovalStore>().ListAsync(null, 10, CancellationToken.None)).Single();
        Assert.Equal((ApprovalStatus.Executed, "approver-alice"), (stored.Status, stored.DecidedBy));
    }

    [Fact]
    public async Task WithAnotherApprover_TheOwnersCardSaysWhyApproveIsUnavailable_BeforeTheClick_AndDenyWorks()
    {
        Authorization.SetAuthorized("april").SetRoles("Approver");
        await AddUserAsync("april", ConsoleRoles.Approver);
        await AddUserAsync("bruno", ConsoleRoles.Approver);
        var held = await HoldACallOfAprilsAgentAsync();
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));

        Assert.Equal("You own agent aprils-bot; another approver must approve.", cut.Find(".self-approval").TextContent.Trim());
        Assert.True(cut.Find("button.approve").HasAttribute("disabled"));
        Assert.False(cut.Find("button.deny").HasAttribute("disabled"));
        Assert.False(held.IsCompleted);

        await cut.InvokeAsync(() => cut.Find("button.deny").Click());
        var verdict = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(verdict.Approved);
        Assert.Contains("Denied by april", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoneApprover_MayApproveACallOfTheirOwnAgent_ADisabledSecondApproverDoesNotCount()
    {
        Authorization.SetAuthorized("april").SetRoles("Admin");
        await AddUserAsync("april", ConsoleRoles.Admin);
        await AddUserAsync("carl", ConsoleRoles.Auditor);
        await AddUserAsync("bruno", ConsoleRoles.Approver, enabled: false);
        var held = await HoldACallOfAprilsAgentAsync();
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));

        Assert.Empty(cut.FindAll(".self-approval"));
        Assert.False(cut.Find("button.approve").HasAttribute("disabled"));
        await cut.InvokeAsync(() => cut.Find("button.approve").Click());
        var verdict = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(verdict.Approved);
    }

    [Fact]
    public async Task ASecondApproverAddedAfterTheCardShowed_TheClickIsRefusedWithTheReason()
    {
        Authorization.SetAuthorized("april").SetRoles("Approver");
        await AddUserAsync("april", ConsoleRoles.Approver);
        var held = await HoldACallOfAprilsAgentAsync();
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));
        Assert.False(cut.Find("button.approve").HasAttribute("disabled"));

        // The rule is decided again at the click: the gate, not the page, has the last word.
        await AddUserAsync("bruno", ConsoleRoles.Admin);
        await cut.InvokeAsync(() => cut.Find("button.approve").Click());
        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message!.Contains("another approver must approve", StringComparison.Ordinal)));
        cut.WaitForAssertion(() => Assert.True(cut.Find("button.approve").HasAttribute("disabled")));
        Assert.False(held.IsCompleted);
        Assert.Equal(ApprovalStatus.Pending, (await Services.GetRequiredService<IApprovalStore>().ListAsync(null, 10, CancellationToken.None)).Single().Status);
    }

    private async Task<Task<ApprovalVerdict>> HoldACallOfAprilsAgentAsync()
    {
        await Services.GetRequiredService<IAgentStore>().CreateAsync("aprils-bot", ["*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None, owner: "april");
        var gate = Services.GetRequiredService<ApprovalGate>();
        var held = gate.RequestAsync(
            new ApprovalRequest(new AgentIdentity(1, "aprils-bot", GrantSet.None), "payments", "transfer", "def", null, CanonicalJson.Sha256(null), new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"), null),
            CancellationToken.None).AsTask();
        var store = Services.GetRequiredService<IApprovalStore>();
        await Eventually.TrueAsync(async () => (await store.ListAsync(ApprovalStatus.Pending, 10, CancellationToken.None)).Count == 1, "the call is held", TimeSpan.FromSeconds(20));

        return held;
    }

    private async Task AddUserAsync(string name, string role, bool enabled = true) =>
        Assert.True(await Services.GetRequiredService<IConsoleUserStore>().CreateAsync(
            new ConsoleUser { UserName = name, DisplayName = name, Source = ConsoleUserSource.Local, AssignedRoles = [role], Enabled = enabled, CreatedAt = DateTimeOffset.UtcNow },
            CancellationToken.None));

    private sealed class NullSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
