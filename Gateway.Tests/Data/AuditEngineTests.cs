using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Data;

/// <summary>
/// The audit trail's promises on each engine: one gap-free chain with several writers (instances), append-only in the
/// database, and the browse, verify and recovery queries reading what the writer wrote.
/// </summary>
public sealed class AuditEngineTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoInstancesWritingAtOnce_MakeOneGapFreeChainThatVerifies(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database);

        // Each instance's writer batches its own callers; the two writers race for the head on every batch.
        var writes = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var sink = w % 2 == 0 ? a.Sink : b.Sink;
            for (var i = 0; i < 40; i++)
            {
                await sink.CommitAsync(AuditChainTests.Sample((w * 40) + i) with { Actor = $"writer-{w}" }, TestContext.Timeout);
            }
        }));

        // Meanwhile admin changes on both instances append their entries in their own transactions, beside the writers.
        var changes = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            var instance = w == 0 ? a : b;
            var agents = new AuditedAgentStore(instance.Services.GetRequiredService<IAgentStore>(), instance.Services.GetRequiredService<IAdminChangeTransactions>());
            using var actor = AuditActor.Use($"admin-{w}");
            for (var i = 0; i < 10; i++)
            {
                var name = $"agent-{w}-{i}";
                Assert.NotNull(await agents.CreateAsync(name, ["x/*"], ApiKeys.Hash(name + "-key-0123456789"), "hint", TestContext.Timeout));
                Assert.NotNull(await agents.UpdateAsync(name, enabled: false, grants: null, TestContext.Timeout));
            }
        }));
        await Task.WhenAll([.. writes, .. changes]);
        await a.Flusher.FlushAsync(TestContext.Timeout);
        await b.Flusher.FlushAsync(TestContext.Timeout);

        var entries = a.Reader.ReadEntries().ToList();
        Assert.Equal(Enumerable.Range(1, 360).Select(i => (long)i), entries.Select(e => e.Sequence));
        var result = AuditSinkChainTests.Verify(entries);
        Assert.True(result.Intact, result.Problem);
        Assert.Equal(40, entries.Count(e => e.Record.Actor == "writer-5"));

        // Each agent's entries in the order its changes were made.
        Assert.Equal(
            Enumerable.Range(0, 10).SelectMany(i => new[] { ($"agent/agent-1-{i}", "create"), ($"agent/agent-1-{i}", "update") }),
            entries.Where(e => e.Record.Actor == "admin-1").Select(e => (e.Record.Tool!, e.Record.Decision)));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheAuditTables_RefuseUpdateAndDelete(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        await db.Sink.CommitAsync(AuditChainTests.Sample(), TestContext.Timeout);
        var statements = new List<string>
        {
            "UPDATE \"AuditEntries\" SET \"Actor\" = 'someone-else'",
            "DELETE FROM \"AuditEntries\"",
        };
        if (provider == DatabaseProvider.Postgres)
        {
            statements.Add("TRUNCATE \"AuditEntries\"");
            statements.Add("TRUNCATE \"AuditCheckpoints\"");
        }

        foreach (var sql in statements)
        {
            await using var connection = db.Database.OpenConnection();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var refused = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal("agent-0", Assert.Single(db.Reader.ReadEntries()).Record.Actor);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheConsolesBrowse_FiltersSortsAndCounts(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        for (var i = 0; i < 30; i++)
        {
            var record = AuditChainTests.Sample(i) with
            {
                Decision = i % 10 == 0 ? "block" : "allow",
                Outcome = i % 10 == 0 ? AuditOutcomes.Denied : AuditOutcomes.Ok,
                Error = i == 7 ? "upstream said needle-in-a-haystack" : null,
            };
            await db.Sink.WriteAsync(record, TestContext.Timeout);
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);
        var browser = db.Services.GetRequiredService<AuditBrowser>();

        var all = await browser.QueryAsync(new AuditFilter(), "Sequence", descending: true, 0, 10, TestContext.Timeout);
        Assert.Equal(30, all.Total);
        Assert.Equal(30, all.Entries[0].Sequence);

        var blocked = await browser.QueryAsync(new AuditFilter { Decision = "block" }, "Sequence", descending: false, 0, 10, TestContext.Timeout);
        Assert.Equal([1L, 11, 21], blocked.Entries.Select(e => e.Sequence));

        var byActor = await browser.QueryAsync(new AuditFilter { Agent = "agent-1" }, "Actor", descending: false, 0, 50, TestContext.Timeout);
        Assert.Equal(10, byActor.Total);
        Assert.All(byActor.Entries, e => Assert.Equal("agent-1", e.Record.Actor));

        var text = await browser.QueryAsync(new AuditFilter { Text = "needle" }, "Sequence", descending: true, 0, 10, TestContext.Timeout);
        Assert.Equal(8, Assert.Single(text.Entries).Sequence);

        // Sample(i) is 7 ms after Sample(i - 1): [from, to) selects i = 10..19.
        var from = AuditChainTests.Sample(10).Timestamp;
        var range = await browser.QueryAsync(new AuditFilter { From = from, To = AuditChainTests.Sample(20).Timestamp }, "Sequence", descending: false, 0, 50, TestContext.Timeout);
        Assert.Equal(Enumerable.Range(11, 10).Select(i => (long)i), range.Entries.Select(e => e.Sequence));
        Assert.Equal(from, range.Entries[0].Record.Timestamp);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACallStartedByAStoppedInstance_IsRecordedAsUnknown_OnTheNextStart(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        // Holds the database for the test (a PostgreSQL one is dropped with its creator).
        await using var keeper = await AuditDatabase.OpenAsync(provider);
        var database = keeper.Database;
        await using (var first = await AuditDatabase.OpenAsync(provider, database))
        {
            await first.Sink.CommitAsync(AuditChainTests.Sample(1) with { Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started, CallId = "orphan" }, TestContext.Timeout);
        }

        await using var second = await AuditDatabase.OpenAsync(provider, database);
        await second.Flusher.FlushAsync(TestContext.Timeout);
        var entries = second.Reader.ReadEntries().ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(AuditOutcomes.Unknown, entries[1].Record.Outcome);
        Assert.Equal("orphan", entries[1].Record.CallId);
        Assert.Contains("2026-11-24T09:00:00.007Z", entries[1].Record.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task InstancesStartingTogether_AfterACrash_EndEachUnfinishedCallOnce()
    {
        // Calls a killed instance had forwarded (their ids name no running instance), then two instances starting at
        // once on the same PostgreSQL database. The second read the calls before the first's writer had committed their
        // ends (it starts after the recovery), and recorded them again: two 'unknown' ends per call.
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var keeper = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        string[] orphans = ["orphan1", "orphan2", "orphan3"];
        foreach (var (id, i) in orphans.Select((id, i) => (id, i)))
        {
            await keeper.Sink.CommitAsync(AuditChainTests.Sample(i) with { Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started, CallId = id }, TestContext.Timeout);
        }

        await using var first = AuditDatabase.Unstarted(keeper.Database);
        await using var second = AuditDatabase.Unstarted(keeper.Database);
        static bool BeforeTheWriter(IHostedService service) => service is not BatchingAuditSink;

        // The first has recovered (its ends queued, not committed); the second starts while the first's writer has not.
        await first.StartAsync(BeforeTheWriter);
        var secondStart = second.StartAsync(BeforeTheWriter);
        await first.StartAsync(_ => true);
        await secondStart.WaitAsync(TestContext.Timeout);
        await second.StartAsync(_ => true);
        await first.Flusher.FlushAsync(TestContext.Timeout);
        await second.Flusher.FlushAsync(TestContext.Timeout);

        var ends = keeper.Reader.ReadEntries().Select(e => e.Record).Where(r => r.Outcome == AuditOutcomes.Unknown).ToList();
        Assert.Equal(orphans, ends.Select(r => r.CallId).Order());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheReader_IsReadOnly(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        await using var connection = db.Database.OpenConnection(readOnly: true);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE \"Scratch\" (x integer)";
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => command.ExecuteNonQueryAsync());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TimestampsRoundTrip_ThroughTheModelAndTheRawReaders(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var at = new DateTimeOffset(2026, 11, 30, 12, 34, 56, 789, TimeSpan.Zero);
        await db.Sink.CommitAsync(AuditChainTests.Sample() with { Timestamp = at }, TestContext.Timeout);

        Assert.Equal(at, Assert.Single(db.Reader.ReadEntries()).Record.Timestamp);
        var factory = db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        await using var context = await factory.CreateDbContextAsync(TestContext.Timeout);
        Assert.Equal(at, (await context.AuditEntries.SingleAsync(TestContext.Timeout)).Timestamp);
        Assert.Equal(1, await context.AuditEntries.CountAsync(e => e.Timestamp >= at, TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoInstancesSigningTheSameHead_StoreOneCheckpoint_WithoutAnError(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database);
        await a.Sink.CommitAsync(AuditChainTests.Sample(), TestContext.Timeout);
        var head = Assert.Single(a.Reader.ReadEntries());
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var at = new DateTimeOffset(2026, 11, 30, 18, 0, 0, 123, TimeSpan.Zero);
        var checkpoint = AuditCheckpoints.Sign(head.Sequence, head.Hash!, at, key);

        var stored = await Task.WhenAll(
            a.Services.GetRequiredService<IAuditCheckpointStore>().AddAsync(checkpoint, TestContext.Timeout),
            b.Services.GetRequiredService<IAuditCheckpointStore>().AddAsync(checkpoint, TestContext.Timeout));

        Assert.Equal(1, stored.Count(s => s));
        var read = Assert.Single(a.Reader.ReadCheckpoints());
        Assert.Equal((head.Sequence, at), (read.Sequence, read.CreatedAt));
    }
}
