using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;

namespace Gateway.Tests.Data;

/// <summary>
/// The audit write path's costs and promises on a real database of each engine: one durable commit per call on the critical path
/// (the completion rides along with the next call's start), the process durability mode, and entries nobody waits for
/// reaching the file and the disk by themselves within the windows.
/// </summary>
public sealed class AuditWritePathTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task SequentialCalls_CostOneDurableCommitEach_TheCompletionRidesWithTheNextStart(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, options: new AuditWriteOptions { CoalesceWindow = TimeSpan.FromMilliseconds(200) });
        const int Calls = 100;
        for (var i = 0; i < Calls; i++)
        {
            // As the pipeline does: wait for the start's commit, forward, then queue the completion without waiting.
            await db.Sink.CommitAsync(AuditChainTests.Sample(i) with { Kind = AuditKinds.ToolCallStarted, CallId = $"c{i}" }, TestContext.Timeout);
            await db.Sink.WriteAsync(AuditChainTests.Sample(i) with { CallId = $"c{i}" }, TestContext.Timeout);
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);

        var (commits, durable, _) = db.Writer.Counts;
        Assert.Equal(2 * Calls, db.Reader.ReadEntries().Count());
        Assert.True(durable <= Calls + 1, $"{durable} durable commits for {Calls} calls");
        Assert.True(commits <= Calls + 1, $"{commits} commits for {Calls} calls: completions were committed on their own");
        Assert.True(AuditSinkChainTests.Verify(db.Reader.ReadEntries()).Intact);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ProcessMode_ReleasesTheCallOnceCommitted_AndSyncsWithinTheWindow(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, options: new AuditWriteOptions { Durability = AuditDurability.Process, SyncWindow = TimeSpan.FromMilliseconds(20) });
        await db.Sink.CommitAsync(AuditChainTests.Sample(1) with { Kind = AuditKinds.ToolCallStarted, CallId = "p1" }, TestContext.Timeout);

        // Committed (another connection reads it) without an fsync of its own ...
        Assert.Single(db.Reader.ReadEntries());
        Assert.Equal(0, db.Writer.Counts.Durable);

        // ... which follows within the window, without anybody asking.
        await Eventually.TrueAsync(() => db.Writer.Counts.Syncs >= 1, "the writer synced the log");
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ProcessMode_ACallsStartIsNotHeldBehindTheWindowsSync_WhichStillCoversWhatCameBefore(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);

        // The engine's own appender, whose sync (an fsync, or PostgreSQL's synchronous commit) is held until released:
        // a disk that takes its time.
        var connectionString = db.Database.ConnectionString;
        var appender = new HeldSyncAppender(provider == DatabaseProvider.Postgres ? new Gateway.Data.Postgres.PostgresAuditAppender(connectionString) : new Gateway.Data.Sqlite.SqliteAuditAppender(connectionString));
        var sink = new BatchingAuditSink(appender, new AuditWriteOptions { Durability = AuditDurability.Process, SyncWindow = TimeSpan.FromMilliseconds(20) }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<BatchingAuditSink>.Instance);
        await sink.StartAsync(TestContext.Timeout);
        try
        {
            await sink.CommitAsync(AuditChainTests.Sample(1) with { Kind = AuditKinds.ToolCallStarted, CallId = "w1" }, TestContext.Timeout);
            await appender.SyncBegun.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Timeout);

            // The window's sync is under way and cannot finish; the next call's start commits all the same.
            await sink.CommitAsync(AuditChainTests.Sample(2) with { Kind = AuditKinds.ToolCallStarted, CallId = "w2" }, TestContext.Timeout).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Timeout);
            Assert.Equal(0, appender.SyncsEnded);
            Assert.Equal(2, db.Reader.ReadEntries().Count());

            // Released, the held sync ends, and the start that came during it gets a sync of its own within the window.
            appender.Release();
            await Eventually.TrueAsync(() => appender.SyncsEnded >= 2, "the entry committed during the held sync was synced after it");
            Assert.Equal((0, 2), (sink.Counts.Durable, sink.Counts.Commits));
        }
        finally
        {
            appender.Release();
            await sink.StopAsync(TestContext.Timeout);
            sink.Dispose();
        }

        Assert.True(AuditSinkChainTests.Verify(db.Reader.ReadEntries()).Intact);
    }

    /// <summary>The engine's appender, with its first sync held until <see cref="Release"/>.</summary>
    private sealed class HeldSyncAppender(IAuditAppender inner) : IAuditAppender
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _syncsEnded;

        public TaskCompletionSource SyncBegun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int SyncsEnded => Volatile.Read(ref _syncsEnded);

        public void Release() => _released.TrySetResult();

        public Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken) =>
            inner.AppendAsync(records, durable, cancellationToken);

        public async Task SyncAsync(CancellationToken cancellationToken)
        {
            SyncBegun.TrySetResult();
            await _released.Task;
            await inner.SyncAsync(cancellationToken);
            Interlocked.Increment(ref _syncsEnded);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task PowerMode_FsyncsTheStartBeforeReleasingTheCall(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        await db.Sink.CommitAsync(AuditChainTests.Sample(1) with { Kind = AuditKinds.ToolCallStarted, CallId = "f1" }, TestContext.Timeout);
        Assert.Equal(1, db.Writer.Counts.Durable);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task EntriesNobodyWaitsFor_ReachTheFileAndTheDisk_WithoutAFlush(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        await db.Sink.WriteAsync(AuditChainTests.Sample(7), TestContext.Timeout);

        await Eventually.TrueAsync(() => db.Reader.ReadEntries().Any(), "the entry was committed");
        await Eventually.TrueAsync(() => db.Writer.Counts.Syncs >= 1, "the lazily committed entry was synced");
        Assert.Equal(0, db.Writer.Counts.Durable);
    }

    /// <summary>SQLite only: its appender writes on the calling thread, so the caller's own commit is complete on return; PostgreSQL's goes over the network.</summary>
    [Fact]
    public async Task WhenNoBatchIsBeingWritten_TheCallerCommitsItsStartItself_WithoutWaitingForTheWriter()
    {
        await using var db = await AuditDatabase.OpenAsync();
        await db.Sink.CommitAsync(AuditChainTests.Sample(0) with { Kind = AuditKinds.ToolCallStarted, CallId = "warm" }, TestContext.Timeout);

        // SQLite writes on the calling thread: a start the caller commits itself is done when CommitAsync returns. Handed to
        // the writer loop instead, it would complete later, on another thread (a wake of the writer and one back).
        var start = db.Sink.CommitAsync(AuditChainTests.Sample(1) with { Kind = AuditKinds.ToolCallStarted, CallId = "s1" }, TestContext.Timeout);
        Assert.True(start.IsCompletedSuccessfully, "the start was not committed on the caller's own flow");
        await start;
        Assert.Equal(2, db.Reader.ReadEntries().Count());
        Assert.Equal(2, db.Writer.Counts.Durable);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ManyConcurrentStarts_ShareCommits_AndTheChainHasNoGap(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, options: new AuditWriteOptions { CoalesceWindow = TimeSpan.FromMilliseconds(50) });
        const int Callers = 32, Each = 20;

        // Callers that find a batch being written leave their start to the next batch, written by whoever lets go last.
        // Each caller has a thread of its own and waits on it: SQLite's caller writes its own batch synchronously, so
        // thread-pool callers on a pool starved by tests running beside this one ran one after another (no start shared
        // a commit: 641 commits, seen locally), which shows nothing about callers that do run at once.
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Factory.StartNew(
            () =>
            {
                for (var i = 0; i < Each; i++)
                {
                    db.Sink.CommitAsync(AuditChainTests.Sample(i) with { Kind = AuditKinds.ToolCallStarted, CallId = $"c{c}-{i}" }, TestContext.Timeout).AsTask().GetAwaiter().GetResult();
                    db.Sink.WriteAsync(AuditChainTests.Sample(i) with { CallId = $"c{c}-{i}" }, TestContext.Timeout).AsTask().GetAwaiter().GetResult();
                }
            },
            TestContext.Timeout,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));
        await db.Flusher.FlushAsync(TestContext.Timeout);

        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal(2 * Callers * Each, entries.Count);
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(n => (long)n), entries.Select(e => e.Sequence));
        Assert.True(AuditSinkChainTests.Verify(entries).Intact);
        Assert.True(db.Writer.Counts.Commits < Callers * Each, $"{db.Writer.Counts.Commits} commits for {Callers * Each} starts: no start shared a commit");
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACallersBatchThatFails_FailsItsStart_AndLeavesTheRecordsNobodyWaitsFor_ToTheWriterToRetry(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, options: new AuditWriteOptions { CoalesceWindow = TimeSpan.FromMinutes(5) });
        await db.Sink.CommitAsync(AuditChainTests.Sample(0) with { Kind = AuditKinds.ToolCallStarted, CallId = "warm" }, TestContext.Timeout);
        await db.ExecuteAsync(provider == DatabaseProvider.Postgres
            ? """
              CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN
                  IF NEW."Actor" = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;
                  RETURN NEW;
              END $$;
              CREATE TRIGGER refuse_boom BEFORE INSERT ON "AuditEntries" FOR EACH ROW EXECUTE FUNCTION refuse_boom();
              """
            : "CREATE TRIGGER refuse_boom BEFORE INSERT ON AuditEntries WHEN NEW.Actor = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;");

        // A completion waits in its window; the next start's caller writes both, and the database refuses the batch.
        await db.Sink.WriteAsync(AuditChainTests.Sample(1) with { Actor = "boom", CallId = "done" }, TestContext.Timeout);
        await Assert.ThrowsAsync<AuditUnavailableException>(() => db.Sink.CommitAsync(AuditChainTests.Sample(2) with { Kind = AuditKinds.ToolCallStarted, CallId = "refused" }, TestContext.Timeout).AsTask());

        // The completion is not lost: the writer retries it until the database takes it.
        await db.ExecuteAsync(provider == DatabaseProvider.Postgres ? "DROP TRIGGER refuse_boom ON \"AuditEntries\"" : "DROP TRIGGER refuse_boom;");
        await Eventually.TrueAsync(() => db.Reader.ReadEntries().Any(e => e.Record.CallId == "done"), "the completion was retried and written");
        Assert.DoesNotContain(db.Reader.ReadEntries(), e => e.Record.CallId == "refused");
        Assert.True(AuditSinkChainTests.Verify(db.Reader.ReadEntries()).Intact);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AFlushSyncsWhatWasCommittedLazily(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        // A sync window far beyond the test: only the flush can have synced.
        await using var db = await AuditDatabase.OpenAsync(provider, options: new AuditWriteOptions { SyncWindow = TimeSpan.FromSeconds(1), CoalesceWindow = TimeSpan.Zero });
        await db.Sink.WriteAsync(AuditChainTests.Sample(3), TestContext.Timeout);
        await Eventually.TrueAsync(() => db.Writer.Counts.Commits >= 1, "the entry was committed");

        await db.Flusher.FlushAsync(TestContext.Timeout);

        Assert.Equal(1, db.Writer.Counts.Syncs);
    }

    [Theory]
    [InlineData("Durability", "sometimes", "Durability")]
    [InlineData("SyncWindow", "00:00:00", "SyncWindow")]
    [InlineData("SyncWindow", "00:00:05", "SyncWindow")]
    [InlineData("CoalesceWindow", "-00:00:01", "CoalesceWindow")]
    public void AnInvalidSetting_StopsTheGateway_NamingIt(string key, string value, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Gateway.Web.Program.CreateApp([$"--Gateway:Audit:{key}={value}", "--ConnectionStrings:Gateway=Data Source=" + AuditDatabase.NewPath()]));
        Assert.Contains($"Gateway:Audit:{named}", error.Message);
    }
}
