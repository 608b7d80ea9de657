using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;

namespace Gateway.Tests.Data;

/// <summary>The writer chains every batch inside its write transaction, so the chain on disk verifies, also with two writers on one file.</summary>
public sealed class AuditSinkChainTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Records_AreStoredChained_AndReadBackVerifies(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        for (var i = 0; i < 50; i++)
        {
            await db.Sink.WriteAsync(AuditChainTests.Sample(i) with { Timestamp = DateTimeOffset.Now.AddTicks(1234) }, TestContext.Timeout);
        }

        await db.Sink.CommitAsync(AuditChainTests.Sample(99), TestContext.Timeout);
        await db.Flusher.FlushAsync(TestContext.Timeout);

        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal(Enumerable.Range(1, 51).Select(i => (long)i), entries.Select(e => e.Sequence));
        Assert.Equal(AuditChain.Genesis, entries[0].PreviousHash);
        Assert.True(Verify(entries).Intact);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoGatewaysOnOneDatabase_WritingConcurrently_NeverForkTheChain(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);

        // Migrated once, like a first gateway start, before two instances share the database (it owns the database,
        // so it is disposed last).
        await using var first = await AuditDatabase.OpenAsync(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, first.Database);
        await using var b = await AuditDatabase.OpenAsync(provider, first.Database);
        const int PerWriter = 1200;
        const int CallersPerWriter = 6;

        // Each instance runs several callers that each wait for their commit (as calls do with write-before-forward),
        // so both writers have a batch ready all the time and contend for the write lock. All callers are released at
        // once, so neither instance can finish before the other has started.
        var ready = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task Caller(AuditDatabase db, string actor, int caller) => Task.Run(async () =>
        {
            if (Interlocked.Increment(ref ready) == 2 * CallersPerWriter)
            {
                start.SetResult();
            }

            await start.Task.WaitAsync(TestContext.Timeout);
            for (var i = 0; i < PerWriter / CallersPerWriter; i++)
            {
                await db.Sink.CommitAsync(AuditChainTests.Sample(i) with { Actor = actor, CallId = $"{caller}-{i}" }, TestContext.Timeout);
            }
        });

        await Task.WhenAll(Enumerable.Range(0, CallersPerWriter).SelectMany(c => new[] { Caller(a, "a", c), Caller(b, "b", c) }));

        var entries = a.Reader.ReadEntries().ToList();
        Assert.Equal(2 * PerWriter, entries.Count);
        Assert.Equal(PerWriter, entries.Count(e => e.Record.Actor == "a"));
        var result = Verify(entries);
        Assert.True(result.Intact, result.Problem);

        // Both wrote into the one chain. (How finely they interleave depends on the machine: SQLite's write lock is not
        // fair, nor is PostgreSQL's advisory lock, and on a loaded machine one instance can hold it for many batches in a row.)
        Assert.Contains(entries, e => e.Record.Actor == "b");
    }

    /// <summary>SQLite's file, written to directly; both engines: <see cref="AuditEngineTests.TheAuditTables_RefuseUpdateAndDelete"/>.</summary>
    [Fact]
    public async Task UpdatesAndDeletes_AreRefusedByTheDatabase()
    {
        await using var db = await AuditDatabase.OpenAsync();
        await db.Sink.CommitAsync(AuditChainTests.Sample(), TestContext.Timeout);

        var update = Assert.ThrowsAny<Exception>(() => AuditDatabase.Execute(db.Path, "UPDATE AuditEntries SET Outcome = 'error'"));
        Assert.Contains("append-only", update.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => AuditDatabase.Execute(db.Path, "DELETE FROM AuditEntries"));
    }

    /// <summary>SQLite only: unchained entries exist only in SQLite files from before the chain; PostgreSQL support came after it.</summary>
    [Fact]
    public async Task EntriesWrittenBeforeTheChain_AreChainedOnceAtStart_AndNewOnesLinkToThem()
    {
        var path = AuditDatabase.NewPath();
        await using (await AuditDatabase.OpenAsync(path))
        {
        }

        // What an upgraded database holds: rows with no hash, from the old autoincrement (with a gap).
        foreach (var sequence in new[] { 1, 2, 3, 5, 6 })
        {
            AuditDatabase.Execute(path, "INSERT INTO AuditEntries (Sequence, Timestamp, Kind, Actor, Decision, Outcome, DurationMs) VALUES ($s, $t, 'tool_call', 'old-agent', 'allow', 'ok', 1.5)", ("$s", sequence), ("$t", 638_000_000_000_000_000L + sequence));
        }

        await using var db = await AuditDatabase.OpenAsync(path);
        await db.Sink.CommitAsync(AuditChainTests.Sample(), TestContext.Timeout);

        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal([1L, 2, 3, 4, 5, 6], entries.Select(e => e.Sequence));
        Assert.Equal("old-agent", entries[4].Record.Actor);
        var result = Verify(entries);
        Assert.True(result.Intact, result.Problem);
        Assert.ThrowsAny<Exception>(() => AuditDatabase.Execute(path, "UPDATE AuditEntries SET Actor = 'x'"));
    }

    /// <summary>
    /// A chained database is never chained again: a hashless row slipped in after its entries (inserts are not refused
    /// by the triggers) stays as it is and fails verification, instead of the whole trail being rewritten around it.
    /// </summary>
    [Fact]
    public async Task AHashlessRowInAChainedDatabase_IsNotChained_AndFailsVerification()
    {
        var path = AuditDatabase.NewPath();
        await using (var first = await AuditDatabase.OpenAsync(path))
        {
            await first.Sink.CommitAsync(AuditChainTests.Sample(1), TestContext.Timeout);
            await first.Sink.CommitAsync(AuditChainTests.Sample(2), TestContext.Timeout);
        }

        AuditDatabase.Execute(path, "INSERT INTO AuditEntries (Sequence, Timestamp, Kind, Actor, Decision, Outcome, DurationMs) VALUES (3, 638000000000000003, 'tool_call', 'slipped-in', 'allow', 'ok', 1.5)");

        await using var db = await AuditDatabase.OpenAsync(path);
        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal([1L, 2, 3], entries.Select(e => e.Sequence));
        Assert.Null(entries[2].Hash);
        var result = Verify(entries);
        Assert.False(result.Intact);
        Assert.Equal(3, result.FirstBadSequence);
    }

    internal static AuditVerification Verify(IEnumerable<AuditChainEntry> entries)
    {
        var verifier = new AuditVerifier();
        foreach (var e in entries)
        {
            if (!verifier.Add(e))
            {
                break;
            }
        }

        return verifier.Complete();
    }
}
