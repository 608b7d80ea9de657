using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Witnesses;
using Gateway.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Web.Audit;

public sealed class AuditCheckpointServiceTests
{
    [Theory]
    [InlineData(0, 3600, false)]
    [InlineData(1, 59, false)]
    [InlineData(1, 60, true)]
    [InlineData(9_999, 1, false)]
    [InlineData(10_000, 1, true)]
    [InlineData(25_000, 0, true)]
    public void Checkpoint_IsDueAfterTheIntervalOrTheEntryCount(long added, int ageSeconds, bool due) =>
        Assert.Equal(due, AuditCheckpointService.IsDue(added, TimeSpan.FromSeconds(ageSeconds), new AuditOptions()));

    /// <summary>The checkpoint settings are bounded at start, so the service's due time and wait are always a timer's.</summary>
    [Theory]
    [InlineData("CheckpointInterval", "00:00:00.099")]
    [InlineData("CheckpointInterval", "1.00:00:00.001")]
    [InlineData("CheckpointPoll", "00:00:00.009")]
    [InlineData("CheckpointPoll", "00:01:00.001")]
    [InlineData("CheckpointEvery", "0")]
    public async Task CheckpointSettingsPastTheirLimits_StopTheStart_NamingThem(string setting, string value)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Audit:" + setting] = value }));
        Assert.Contains("Gateway:Audit:CheckpointInterval must be between 100 ms and one day", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointSettingsAtTheirLimits_Start()
    {
        await using var longest = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:Audit:CheckpointInterval"] = "1.00:00:00",
            ["Gateway:Audit:CheckpointPoll"] = "00:01:00",
            ["Gateway:Audit:CheckpointEvery"] = "1",
        });
        await using var shortest = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:Audit:CheckpointInterval"] = "00:00:00.100",
            ["Gateway:Audit:CheckpointPoll"] = "00:00:00.010",
        });
        Assert.Equal(TimeSpan.FromDays(1), longest.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Audit.CheckpointInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(10), shortest.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Audit.CheckpointPoll);
    }

    /// <summary>
    /// A look at the chain that failed (the file busy, the connection dropped) is tried again without another write:
    /// the entry written before it is signed although nothing is written after it. SQLite's change watch reports commits
    /// only, so without its own retry the service would wait for the next write. Real SQLite file, watch and store.
    /// </summary>
    [Fact]
    public async Task ALookThatFailed_IsTriedAgain_WithoutAnotherWrite()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();
        var store = new FailingReads(db.Services.GetRequiredService<IAuditCheckpointStore>());
        using var key = NewKey();
        using var service = NewService(db, monitor, store, key, new AuditOptions { CheckpointEvery = 1, CheckpointPoll = TimeSpan.FromMilliseconds(20) });
        await service.StartAsync(TestContext.Timeout);

        // Its first look (head, then the last checkpoint) finds nothing to sign; it then waits for a write.
        await Eventually.TrueAsync(() => store.LooksDone > 0, "the service's first look");
        store.FailNext();
        await db.Sink.CommitAsync(AuditChainTests.Sample(1), TestContext.Timeout);

        await Eventually.TrueAsync(() => store.Failures == 1, "the look after the write, which fails");
        IDatabaseCommits commits = monitor;
        var afterFailure = commits.Version;

        await Eventually.TrueAsync(async () => await store.ReadLastAsync(TestContext.Timeout) is { Sequence: > 0 }, "the entry written before the failed look is signed");
        Assert.Equal(1, store.Failures);

        // Nothing was committed after the failed look but the checkpoint itself: the retry signed it, not a change.
        Assert.True(commits.Version <= afterFailure + 1, $"the watch saw {commits.Version - afterFailure} commits after the failed look");

        await service.StopAsync(TestContext.Timeout);
        await monitor.StopAsync(TestContext.Timeout);
    }

    /// <summary>
    /// Entries waiting for their interval change nothing but the clock until the next write: the service reads the chain
    /// once after the write and once when they are due, not at every poll (which kept an idle gateway reading twice a
    /// second, and recompiling what those reads run, for a minute after each call). Real SQLite file, watch and store.
    /// </summary>
    [Fact]
    public async Task EntriesWaitingForTheInterval_AreSignedWhenDue_WithoutReadingTheChainMeanwhile()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();
        var store = new FailingReads(db.Services.GetRequiredService<IAuditCheckpointStore>());
        using var key = NewKey();
        var interval = TimeSpan.FromSeconds(2);
        using var service = NewService(db, monitor, store, key, new AuditOptions { CheckpointInterval = interval, CheckpointPoll = TimeSpan.FromMilliseconds(20) });
        await service.StartAsync(TestContext.Timeout);

        // The first entry is signed at once (no checkpoint yet): the interval counts from that checkpoint.
        await db.Sink.CommitAsync(AuditChainTests.Sample(1), TestContext.Timeout);
        await Eventually.TrueAsync(async () => await store.ReadLastAsync(TestContext.Timeout) is { Sequence: 1 }, "the first entry is signed");
        var first = (await store.ReadLastAsync(TestContext.Timeout))!;

        var readsBefore = store.Reads;
        await db.Sink.CommitAsync(AuditChainTests.Sample(2), TestContext.Timeout);
        await Eventually.TrueAsync(async () => await store.ReadLastAsync(TestContext.Timeout) is { Sequence: 2 }, "the second entry is signed when due", interval * 10);
        var second = (await store.ReadLastAsync(TestContext.Timeout))!;

        Assert.True(second.CreatedAt >= first.CreatedAt + interval, $"signed {(second.CreatedAt - first.CreatedAt).TotalMilliseconds} ms after the first checkpoint, before the interval");

        // Each a read of the head: the look after the first checkpoint's own commit (it may come after readsBefore), the
        // look after the write, the look when due, the signing's own read, the look after this checkpoint's commit. A
        // 20 ms poll made ~100.
        var reads = store.Reads - readsBefore;
        Assert.InRange(reads, 2, 6);

        await service.StopAsync(TestContext.Timeout);
        await monitor.StopAsync(TestContext.Timeout);
    }

    private static AuditSigningKey NewKey() => new(Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".pem"));

    /// <summary>The service on a real database's store, watch and flusher, with no witnesses.</summary>
    private static AuditCheckpointService NewService(AuditDatabase db, IDatabaseCommits monitor, IAuditCheckpointStore store, AuditSigningKey key, AuditOptions audit)
    {
        var options = Options.Create(new GatewayOptions { Audit = audit });
        var witnesses = new AuditWitnessPublisher([], 1, null, null, TimeProvider.System, NullLogger<AuditWitnessPublisher>.Instance);
        return new AuditCheckpointService(
            store, db.Flusher, monitor, key, witnesses, new AuditCheckpointNotes(key, options), options, TimeProvider.System, NullLogger<AuditCheckpointService>.Instance);
    }

    /// <summary>The real store, whose next head read fails once when told to (as a busy file or a dropped connection would).</summary>
    private sealed class FailingReads(IAuditCheckpointStore inner) : IAuditCheckpointStore
    {
        private int _failNext;
        private int _reads;
        private int _failures;
        private int _looksDone;

        public int Reads => Volatile.Read(ref _reads);

        /// <summary>Gets how many reads of the last checkpoint, the end of the service's look, have returned.</summary>
        public int LooksDone => Volatile.Read(ref _looksDone);

        public int Failures => Volatile.Read(ref _failures);

        public void FailNext() => Volatile.Write(ref _failNext, 1);

        public Task<(long Sequence, string Hash)?> ReadHeadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            if (Interlocked.Exchange(ref _failNext, 0) == 1)
            {
                Interlocked.Increment(ref _failures);
                throw new InvalidOperationException("database is locked");
            }

            return inner.ReadHeadAsync(cancellationToken);
        }

        public async Task<AuditCheckpoint?> ReadLastAsync(CancellationToken cancellationToken)
        {
            var last = await inner.ReadLastAsync(cancellationToken);
            Interlocked.Increment(ref _looksDone);
            return last;
        }

        public Task<IReadOnlyList<AuditCheckpoint>> ReadRangeAsync(long after, long upTo, int limit, CancellationToken cancellationToken) =>
            inner.ReadRangeAsync(after, upTo, limit, cancellationToken);

        public Task<bool> AddAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken) => inner.AddAsync(checkpoint, cancellationToken);
    }
}
