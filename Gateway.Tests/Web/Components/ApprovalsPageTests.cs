using System.Text.Json;
using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Grants;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
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
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<IAuditSink, NullSink>();
        Services.AddSingleton<ApprovalGate>(sp => new ApprovalGate(
            sp.GetRequiredService<IApprovalStore>(), sp.GetRequiredService<ApprovalEvents>(), sp.GetRequiredService<IAuditSink>(), sp.GetRequiredService<ApprovalOptions>(), TimeProvider.System, sp.GetRequiredService<IAgentStore>()));
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
    public async Task AnApproverCannotApproveACallOfTheirOwnAgent_ButCanDenyIt()
    {
        Authorization.SetAuthorized("april").SetRoles("Approver");
        await Services.GetRequiredService<IAgentStore>().CreateAsync("aprils-bot", ["*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None, owner: "april");
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        var gate = Services.GetRequiredService<ApprovalGate>();
        var held = gate.RequestAsync(
            new ApprovalRequest(new AgentIdentity(1, "aprils-bot", GrantSet.None), "payments", "transfer", "def", null, CanonicalJson.Sha256(null), new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"), null),
            CancellationToken.None).AsTask();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));

        await cut.InvokeAsync(() => cut.Find("button.approve").Click());
        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message!.Contains("another approver must approve", StringComparison.Ordinal)));
        Assert.False(held.IsCompleted);
        Assert.Single(cut.FindAll(".approval-card"));

        await cut.InvokeAsync(() => cut.Find("button.deny").Click());
        var verdict = await held.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(verdict.Approved);
        Assert.Contains("Denied by april", verdict.Message, StringComparison.Ordinal);
    }

    private sealed class NullSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
