using System.Collections.Concurrent;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Tests.Support;
using Gateway.Web.Approvals;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Approvals;

/// <summary>
/// The relay reports to the console what other instances changed in the approvals, never what this instance changed
/// itself (the console has that from <see cref="ApprovalEvents.Changed"/> already): a report whose read of the pending
/// list is older than a local change must not report that change again, as appeared or as decided (an approver would
/// get a second desktop notification). Real SQLite file, real change watch, the gateway's own store and gate; the read
/// is held open by the test to make that order happen every time.
/// </summary>
public sealed class ApprovalChangeRelayTests
{
    private const string Key = "relay-agent-key-0123456789";

    [Fact]
    public async Task LocalChangesMadeWhileAReportReads_AreNotReportedAgain_ChangesFromElsewhereAre()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("relay", Key, "none/*"));
        var services = gateway.Services;
        var store = services.GetRequiredService<IApprovalStore>();
        var agent = (await services.GetRequiredService<IAgentStore>().FindAsync("relay", TestContext.Timeout))!;
        var held = new HeldListStore(store);

        // A relay of its own, on events of its own: the gateway's relay reports on the gateway's events.
        var events = new ApprovalEvents();
        var observed = new ConcurrentQueue<(string Id, ApprovalStatus Status)>();
        events.Observed += a => observed.Enqueue((a.Id, a.Status));
        var relay = ActivatorUtilities.CreateInstance<ApprovalChangeRelay>(services, held, events);
        await relay.StartAsync(TestContext.Timeout);
        try
        {
            // X is held elsewhere: reported once, pending.
            var x = NewApproval(agent, "x");
            await store.CreateAsync(x, TestContext.Timeout);
            await Eventually.TrueAsync(() => observed.Contains((x.Id, ApprovalStatus.Pending)), "the approval held elsewhere was reported");

            // Y is held elsewhere; the report that reads it (X and Y pending) is held. Not simply the next report: the
            // change watch may report X's change twice, and a list read before Y was written would not hold Y.
            var y = NewApproval(agent, "y");
            held.HoldListContaining(y.Id);
            await store.CreateAsync(y, TestContext.Timeout);
            await held.Listed.Task.WaitAsync(TestContext.Timeout);

            // Meanwhile this instance decides X and holds Z, and says so itself.
            Assert.Equal(DecisionResult.Decided, await store.DecideAsync(x.Id, approve: false, "approver", null, DateTimeOffset.UtcNow, TestContext.Timeout));
            events.Raise((await store.GetAsync(x.Id, TestContext.Timeout))!);
            var z = NewApproval(agent, "z");
            await store.CreateAsync(z, TestContext.Timeout);
            events.Raise(z);
            held.Release.SetResult();

            // W is held elsewhere, after all of it: once it is reported, every report before it has run.
            var w = NewApproval(agent, "w");
            await store.CreateAsync(w, TestContext.Timeout);
            await Eventually.TrueAsync(() => observed.Any(o => o.Id == w.Id), "the last approval held elsewhere was reported");

            Assert.Equal([(x.Id, ApprovalStatus.Pending), (y.Id, ApprovalStatus.Pending), (w.Id, ApprovalStatus.Pending)], observed.ToArray());
        }
        finally
        {
            await relay.StopAsync(TestContext.Timeout);
        }
    }

    private static Approval NewApproval(AgentRecord agent, string tag) => new()
    {
        Id = "apr_" + tag + Guid.NewGuid().ToString("N")[..8],
        AgentId = agent.Id,
        Agent = agent.Name,
        Server = "none",
        Tool = "echo",
        ToolDefinitionSha256 = new string('0', 64),
        ArgumentsJson = $$"""{"tag":"{{tag}}"}""",
        ArgumentsSha256 = new string('1', 64),
        Reason = "test",
        CreatedAt = DateTimeOffset.UtcNow,
        ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(10),
    };

    /// <summary>The gateway's store, whose first pending list holding an armed id is read and then held until released.</summary>
    private sealed class HeldListStore(IApprovalStore store) : IApprovalStore
    {
        private string? _armed;

        public TaskCompletionSource Listed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void HoldListContaining(string id) => Volatile.Write(ref _armed, id);

        public async Task<IReadOnlyList<Approval>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken)
        {
            var list = await store.ListAsync(status, limit, cancellationToken);
            if (Volatile.Read(ref _armed) is { } id && list.Any(a => a.Id == id) && Interlocked.CompareExchange(ref _armed, null, id) == id)
            {
                Listed.SetResult();
                await Release.Task.WaitAsync(cancellationToken);
            }

            return list;
        }

        public Task CreateAsync(Approval approval, CancellationToken cancellationToken) => store.CreateAsync(approval, cancellationToken);

        public Task<Approval?> GetAsync(string id, CancellationToken cancellationToken) => store.GetAsync(id, cancellationToken);

        public Task<DecisionResult> DecideAsync(string id, bool approve, string by, string? reason, DateTimeOffset now, CancellationToken cancellationToken) =>
            store.DecideAsync(id, approve, by, reason, now, cancellationToken);

        public Task<bool> ConsumeAsync(string id, CancellationToken cancellationToken) => store.ConsumeAsync(id, cancellationToken);

        public Task<bool> ExpireAsync(string id, DateTimeOffset now, CancellationToken cancellationToken) => store.ExpireAsync(id, now, cancellationToken);

        public Task<IReadOnlyList<Approval>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) => store.ListDueAsync(now, max, cancellationToken);

        public Task<int> CountPendingAsync(long agentId, string actor, DateTimeOffset now, int atMost, CancellationToken cancellationToken) => store.CountPendingAsync(agentId, actor, now, atMost, cancellationToken);

        public Task<Approval?> FindForCallAsync(long agentId, string actor, string server, string tool, string toolDefinitionSha256, string argumentsSha256, DateTimeOffset now, CancellationToken cancellationToken) =>
            store.FindForCallAsync(agentId, actor, server, tool, toolDefinitionSha256, argumentsSha256, now, cancellationToken);
    }
}
