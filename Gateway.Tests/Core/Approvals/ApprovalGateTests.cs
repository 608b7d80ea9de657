using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Grants;
using Gateway.Core.Identity;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Core.Approvals;

/// <summary>The approval gate on a real SQLite file with a fake clock: expiry, hold, and single use, without waiting for real time.</summary>
public sealed class ApprovalGateTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".db");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private ServiceProvider _services = null!;
    private ApprovalGate _gate = null!;
    private IApprovalStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time);
        services.AddGatewayData($"Data Source={_path}");
        _services = services.BuildServiceProvider();
        await using (var db = await _services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync())
        {
            await db.Database.MigrateAsync();
        }

        _store = _services.GetRequiredService<IApprovalStore>();
        _gate = new ApprovalGate(_store, new ApprovalEvents(), new NullSink(), new ApprovalOptions { Timeout = TimeSpan.FromMinutes(5), HoldFor = TimeSpan.FromMinutes(5), PollInterval = TimeSpan.FromSeconds(1) }, _time);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    private static ApprovalRequest Request(string args = """{"amount":5000}""") => new(
        new AgentIdentity(7, "alice", GrantSet.None),
        "payments",
        "transfer",
        "def-sha",
        JsonDocument.Parse(args).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
        CanonicalJson.Sha256(JsonDocument.Parse(args).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())),
        new PolicyDecision(PolicyEffect.Escalate, "big", "large amount"),
        null);

    [Fact]
    public async Task NobodyDecides_TheCallIsDeniedAtExpiry_AndTheRecordSaysExpired()
    {
        var waiting = _gate.RequestAsync(Request(), CancellationToken.None).AsTask();
        var approval = await PendingAsync();

        // Time passes in steps (each lets the waiter's poll run); no real time is spent.
        for (var i = 0; i < 301 && !waiting.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            await Task.WhenAny(waiting, Task.Delay(10));
        }

        var verdict = await waiting;
        Assert.False(verdict.Approved);
        Assert.Contains("expired", verdict.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Expired, (await _store.GetAsync(approval.Id, CancellationToken.None))!.Status);
        Assert.Equal(DecisionResult.AlreadyDecided, await _gate.DecideAsync(approval.Id, approve: true, "late-approver", null, CancellationToken.None));
    }

    [Fact]
    public async Task Approval_IsBoundToTheExactCall_AndUsedOnce()
    {
        var waiting = _gate.RequestAsync(Request(), CancellationToken.None).AsTask();
        var approval = await PendingAsync();
        Assert.Equal(DecisionResult.Decided, await _gate.DecideAsync(approval.Id, approve: true, "bob", "ok", CancellationToken.None));
        Assert.True((await waiting).Approved);
        Assert.Equal(ApprovalStatus.Executed, (await _store.GetAsync(approval.Id, CancellationToken.None))!.Status);

        // The same call again needs a new approval; the used one cannot be consumed twice.
        Assert.False(await _store.ConsumeAsync(approval.Id, CancellationToken.None));
        using var cancel = new CancellationTokenSource();
        var again = _gate.RequestAsync(Request(), cancel.Token).AsTask();
        var second = await PendingAsync(except: approval.Id);
        Assert.NotEqual(approval.Id, second.Id);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => again);
        Assert.Equal(ApprovalStatus.Pending, (await _store.GetAsync(second.Id, CancellationToken.None))!.Status);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("Auditor", true)]
    [InlineData("Approver", false)]
    [InlineData("Admin", false)]
    public async Task TheOwnerMayApproveTheirAgentsCall_OnlyWhileNoOtherApproverExists(string? otherUsersRole, bool ownerMayApprove)
    {
        var users = _services.GetRequiredService<IConsoleUserStore>();
        var agents = _services.GetRequiredService<IAgentStore>();
        await agents.CreateAsync("alice", ["*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None, owner: "ann");
        await users.CreateAsync(User("ann", ConsoleRoles.Admin), CancellationToken.None);
        if (otherUsersRole is not null)
        {
            await users.CreateAsync(User("bruno", otherUsersRole), CancellationToken.None);
        }

        var gate = new ApprovalGate(_store, new ApprovalEvents(), new NullSink(), new ApprovalOptions(), _time, agents, users);
        var waiting = gate.RequestAsync(Request(), CancellationToken.None).AsTask();
        var approval = await PendingAsync();
        Assert.Equal(!ownerMayApprove, await gate.IsSelfApprovalForbiddenAsync(approval, "ANN", CancellationToken.None));
        Assert.Equal(
            ownerMayApprove ? DecisionResult.Decided : DecisionResult.SelfApprovalForbidden,
            await gate.DecideAsync(approval.Id, approve: true, "ann", null, CancellationToken.None));
        if (!ownerMayApprove)
        {
            // Refused, nothing changed; the other approver may, and the owner may always deny.
            Assert.Equal(ApprovalStatus.Pending, (await _store.GetAsync(approval.Id, CancellationToken.None))!.Status);
            Assert.False(await gate.IsSelfApprovalForbiddenAsync(approval, "bruno", CancellationToken.None));
            Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, approve: true, "bruno", null, CancellationToken.None));
        }

        Assert.True((await waiting).Approved);
        Assert.Equal(ownerMayApprove ? "ann" : "bruno", (await _store.GetAsync(approval.Id, CancellationToken.None))!.DecidedBy);
    }

    [Fact]
    public async Task TheOwnerMayAlwaysDeny_AndAnyoneMayApprove_WhenSelfApprovalIsAllowed()
    {
        var users = _services.GetRequiredService<IConsoleUserStore>();
        var agents = _services.GetRequiredService<IAgentStore>();
        await agents.CreateAsync("alice", ["*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None, owner: "ann");
        await users.CreateAsync(User("ann", ConsoleRoles.Approver), CancellationToken.None);
        await users.CreateAsync(User("bruno", ConsoleRoles.Approver), CancellationToken.None);
        var forbidding = new ApprovalGate(_store, new ApprovalEvents(), new NullSink(), new ApprovalOptions(), _time, agents, users);
        var allowing = new ApprovalGate(_store, new ApprovalEvents(), new NullSink(), new ApprovalOptions { ForbidSelfApproval = false }, _time, agents, users);

        var first = forbidding.RequestAsync(Request(), CancellationToken.None).AsTask();
        var approval = await PendingAsync();
        Assert.Equal(DecisionResult.Decided, await forbidding.DecideAsync(approval.Id, approve: false, "ann", "no", CancellationToken.None));
        Assert.False((await first).Approved);

        var second = allowing.RequestAsync(Request(), CancellationToken.None).AsTask();
        var next = await PendingAsync(except: approval.Id);
        Assert.False(await allowing.IsSelfApprovalForbiddenAsync(next, "ann", CancellationToken.None));
        Assert.Equal(DecisionResult.Decided, await allowing.DecideAsync(next.Id, approve: true, "ann", null, CancellationToken.None));
        Assert.True((await second).Approved);
    }

    [Fact]
    public async Task AUserMayNotApproveTheCallAnAgentMadeForThem()
    {
        var users = _services.GetRequiredService<IConsoleUserStore>();
        var agents = _services.GetRequiredService<IAgentStore>();
        await users.CreateAsync(User("ann", ConsoleRoles.Approver), CancellationToken.None);
        await users.CreateAsync(User("bruno", ConsoleRoles.Approver), CancellationToken.None);
        var gate = new ApprovalGate(_store, new ApprovalEvents(), new NullSink(), new ApprovalOptions(), _time, agents, users);

        // An OAuth caller: the agent profile alice (owned by nobody) acting for the user ann.
        var waiting = gate.RequestAsync(Request() with { Agent = new AgentIdentity(7, "alice", GrantSet.None) { User = "ann" } }, CancellationToken.None).AsTask();
        var approval = await PendingAsync();
        Assert.Equal("alice for ann", approval.Agent);

        Assert.Equal(DecisionResult.SelfApprovalForbidden, await gate.DecideAsync(approval.Id, approve: true, "ANN", null, CancellationToken.None));
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, approve: true, "bruno", null, CancellationToken.None));
        Assert.True((await waiting).Approved);
    }

    [Fact]
    public async Task AnApprovalForOneUsersCall_IsNotTakenByTheSameCallForAnotherUser_OfTheSameAgentProfile()
    {
        // The agent profile alice (an OAuth client) acting for ann, then for carl, with the very same call.
        var forAnn = Request() with { Agent = new AgentIdentity(7, "alice", GrantSet.None) { User = "ann" } };
        var forCarl = Request() with { Agent = new AgentIdentity(7, "alice", GrantSet.None) { User = "carl" } };
        using (var giveUp = new CancellationTokenSource())
        {
            var annWaits = _gate.RequestAsync(forAnn, giveUp.Token).AsTask();
            var annsApproval = await PendingAsync();
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => annWaits);

            // Approved for ann, who has gone: her retry would run it. carl's identical call must not.
            Assert.Equal(DecisionResult.Decided, await _gate.DecideAsync(annsApproval.Id, approve: true, "bob", null, CancellationToken.None));
            using var carlGivesUp = new CancellationTokenSource();
            var carlWaits = _gate.RequestAsync(forCarl, carlGivesUp.Token).AsTask();
            var carlsApproval = await PendingAsync(except: annsApproval.Id);
            Assert.Equal("alice for carl", carlsApproval.Agent);
            Assert.Equal(ApprovalStatus.Approved, (await _store.GetAsync(annsApproval.Id, CancellationToken.None))!.Status);
            await carlGivesUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => carlWaits);

            // ann's retry takes her own approval, once.
            Assert.True((await _gate.RequestAsync(forAnn, CancellationToken.None)).Approved);
            Assert.Equal(ApprovalStatus.Executed, (await _store.GetAsync(annsApproval.Id, CancellationToken.None))!.Status);
        }
    }

    private static ConsoleUser User(string name, string role) =>
        new() { UserName = name, DisplayName = name, Source = ConsoleUserSource.Local, AssignedRoles = [role], CreatedAt = DateTimeOffset.UnixEpoch };

    private async Task<Approval> PendingAsync(string? except = null)
    {
        for (var i = 0; i < 500; i++)
        {
            var pending = (await _store.ListAsync(ApprovalStatus.Pending, 10, CancellationToken.None)).FirstOrDefault(a => a.Id != except);
            if (pending is not null)
            {
                return pending;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("no pending approval");
    }

    private sealed class NullSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
