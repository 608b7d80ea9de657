using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Grants;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Microsoft.Extensions.DependencyInjection;
using TestContext = Gateway.Tests.Support.TestContext;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The dashboard over real services and a real SQLite file: the recent-activity list follows the audit trail as it
/// grows (no reload), and a held call counts as escalated and pending while it waits.
/// </summary>
public sealed class DashboardPageTests : ConsolePageTest
{
    public DashboardPageTests()
    {
        AddUpstreams();
        Services.AddSingleton(sp => new Gateway.Web.Agents.AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<IDatabaseChanges>(), Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Web.Agents.AgentDirectoryProvider>.Instance));
        Services.AddGatewayAdminOperations();
        Services.AddSingleton<ApprovalEvents>();
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<ApprovalGate>(sp => new ApprovalGate(
            sp.GetRequiredService<IApprovalStore>(), sp.GetRequiredService<ApprovalEvents>(), sp.GetRequiredService<IAuditSink>(), sp.GetRequiredService<ApprovalOptions>(), TimeProvider.System, sp.GetRequiredService<IAgentStore>()));
    }

    private BatchingAuditSink Sink => Services.GetRequiredService<BatchingAuditSink>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Sink.StartAsync(TestContext.Timeout);
    }

    [Fact]
    public async Task RecentActivity_ShowsTheNewestEntries_AndFollowsTheTrailLive()
    {
        var cut = Render<Gateway.Web.Components.Pages.Dashboard>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#no-activity")));

        // Written after the page opened: the list picks them up on its own, newest first, without the "started" halves.
        var now = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 12; i++)
        {
            await Sink.WriteAsync(AuditChainTests.Sample(i) with { Timestamp = now, Actor = $"agent-{i}" }, TestContext.Timeout);
        }

        await Sink.WriteAsync(AuditChainTests.Sample(13) with { Timestamp = now, Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started, Actor = "agent-13" }, TestContext.Timeout);
        await Sink.FlushAsync(TestContext.Timeout);

        cut.WaitForAssertion(() => Assert.Equal(
            Enumerable.Range(3, 10).Reverse().Select(i => $"agent-{i}"),
            cut.FindAll("#recent-activity tr.activity-row").Select(r => r.Children[2].TextContent.Trim())));
        Assert.Equal("12", cut.Find("#calls-per-minute").TextContent.Trim());
        await Sink.StopAsync(TestContext.Timeout);
    }

    [Fact]
    public async Task AHeldCall_CountsAsEscalatedAndPending_WhileItWaits_AndStaysEscalatedOnceDenied()
    {
        var cut = Render<Gateway.Web.Components.Pages.Dashboard>();
        cut.WaitForAssertion(() => Assert.Equal("0", cut.Find("#escalated-count").TextContent.Trim()));

        var gate = Services.GetRequiredService<ApprovalGate>();
        var held = gate.RequestAsync(
            new ApprovalRequest(new AgentIdentity(1, "payments-bot", GrantSet.None), "payments", "transfer", "def", null, CanonicalJson.Sha256(null), new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"), null),
            CancellationToken.None).AsTask();
        cut.WaitForAssertion(() => Assert.Equal(("1", "1"), (cut.Find("#escalated-count").TextContent.Trim(), cut.Find("#pending-approvals").TextContent.Trim())));
        Assert.False(held.IsCompleted);

        var id = (await Services.GetRequiredService<IApprovalStore>().ListAsync(ApprovalStatus.Pending, 10, CancellationToken.None)).Single().Id;
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(id, false, "admin", null, CancellationToken.None));
        Assert.False((await held.WaitAsync(TestContext.Timeout)).Approved);
        cut.WaitForAssertion(() => Assert.Equal(("1", "0"), (cut.Find("#escalated-count").TextContent.Trim(), cut.Find("#pending-approvals").TextContent.Trim())));
        await Sink.StopAsync(TestContext.Timeout);
    }

    [Fact]
    public async Task AnApprover_SeesTheCounts_ButNotTheAuditTrail()
    {
        Authorization.SetAuthorized("april").SetRoles("Approver");
        var cut = Render<Gateway.Web.Components.Pages.Dashboard>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#pending-approvals")));
        Assert.Empty(cut.FindAll("#recent-activity"));
        await Sink.StopAsync(TestContext.Timeout);
    }
}
