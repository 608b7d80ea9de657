using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The Approvals page keeps the decisions below the pending calls: who decided which call, when, how and why, newest
/// first, expired ones too; a decision made while the page is open joins the list at once.
/// </summary>
public sealed class ApprovalsPageHistoryTests : ConsolePageTest
{
    public ApprovalsPageHistoryTests()
        : base("approver-alice")
    {
        Services.AddSingleton<ApprovalEvents>();
        Services.AddGatewayAdminOperations();
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<IAuditSink, NullSink>();
        Services.AddSingleton<ApprovalGate>(sp => new ApprovalGate(
            sp.GetRequiredService<IApprovalStore>(), sp.GetRequiredService<ApprovalEvents>(), sp.GetRequiredService<IAuditSink>(), sp.GetRequiredService<ApprovalOptions>(), TimeProvider.System, sp.GetRequiredService<IAgentStore>()));
    }

    [Fact]
    public async Task DecidedApprovals_ShowWhoDecidedWhatAndWhen_NewestFirst_AndANewDecisionJoinsLive()
    {
        var store = Services.GetRequiredService<IApprovalStore>();
        var now = DateTimeOffset.UtcNow;
        await store.CreateAsync(Held("apr_approved", "transfer", now.AddMinutes(-10)), CancellationToken.None);
        await store.CreateAsync(Held("apr_denied", "wipe", now.AddMinutes(-9)), CancellationToken.None);
        await store.CreateAsync(Held("apr_expired", "export", now.AddMinutes(-30)) with { ExpiresAt = now.AddMinutes(-20) }, CancellationToken.None);
        await store.CreateAsync(Held("apr_pending", "refund", now.AddMinutes(-1)), CancellationToken.None);
        Assert.Equal(DecisionResult.Decided, await store.DecideAsync("apr_approved", true, "bob", "checked the invoice", now.AddMinutes(-8), CancellationToken.None));
        Assert.Equal(DecisionResult.Decided, await store.DecideAsync("apr_denied", false, "carol", "not on a Friday", now.AddMinutes(-5), CancellationToken.None));

        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".approval-card")));
        Assert.Equal(["apr_denied", "apr_approved", "apr_expired"], HistoryIds(cut));
        var rows = cut.FindAll("#approval-history tbody tr");
        Assert.Contains("denied", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("carol", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("not on a Friday", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("payments / wipe", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("approved", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("bob", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("expired", rows[2].TextContent, StringComparison.Ordinal);
        Assert.Contains("nobody (expired)", rows[2].TextContent, StringComparison.Ordinal);

        // Denied from the page: off the pending cards, first in the history, by the signed-in approver.
        await cut.InvokeAsync(() => cut.Find("button.deny").Click());
        cut.WaitForAssertion(() => Assert.Equal(["apr_pending", "apr_denied", "apr_approved", "apr_expired"], HistoryIds(cut)));
        Assert.Empty(cut.FindAll(".approval-card"));
        Assert.Contains("approver-alice", cut.FindAll("#approval-history tbody tr")[0].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingDecidedYet_SaysSo()
    {
        var cut = Render<Gateway.Web.Components.Pages.Approvals>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#no-decided")));
    }

    private static List<string> HistoryIds(IRenderedComponent<Gateway.Web.Components.Pages.Approvals> cut) =>
        [.. cut.FindAll("#approval-history tbody tr").Select(r => r.Children[^1].TextContent.Trim())];

    private static Approval Held(string id, string tool, DateTimeOffset createdAt) => new()
    {
        Id = id,
        AgentId = 1,
        Agent = "payments-bot",
        Server = "payments",
        Tool = tool,
        ToolDefinitionSha256 = "def",
        ArgumentsJson = "{}",
        ArgumentsSha256 = CanonicalJson.Sha256(null),
        Reason = "large amount",
        CreatedAt = createdAt,
        ExpiresAt = createdAt.AddHours(1),
        Status = ApprovalStatus.Pending,
    };

    private sealed class NullSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
