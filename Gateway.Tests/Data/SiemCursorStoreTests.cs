using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Data;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Data;

/// <summary>
/// The SIEM cursors on both engines, as two instances sharing one database: one holds a sink's lease at a time, only
/// the holder moves the cursor, and the lease passes on when it ends or is given up.
/// </summary>
public sealed class SiemCursorStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task OneInstance_HoldsTheLease_AndOnlyItMovesTheCursor(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<ISiemCursorStore>();
        var onB = b.Services.GetRequiredService<ISiemCursorStore>();
        var now = _time.GetUtcNow();

        // The first to come creates the cursor at its start and holds it; the other waits.
        Assert.Equal(5, await onA.TryLeaseAsync("splunk", "instance-a", 5, now, now + Lease, TestContext.Timeout));
        Assert.Null(await onB.TryLeaseAsync("splunk", "instance-b", 0, now, now + Lease, TestContext.Timeout));
        Assert.True(await onA.AdvanceAsync("splunk", "instance-a", 40, now, now + Lease, TestContext.Timeout));
        Assert.False(await onB.AdvanceAsync("splunk", "instance-b", 90, now, now + Lease, TestContext.Timeout));

        // Never backwards, even for the holder.
        Assert.False(await onA.AdvanceAsync("splunk", "instance-a", 39, now, now + Lease, TestContext.Timeout));

        // The holder stopped renewing: once its lease ended, the other takes over from the cursor it left.
        now += Lease + TimeSpan.FromMilliseconds(1);
        Assert.Equal(40, await onB.TryLeaseAsync("splunk", "instance-b", 0, now, now + Lease, TestContext.Timeout));
        Assert.False(await onA.AdvanceAsync("splunk", "instance-a", 60, now, now + Lease, TestContext.Timeout));
        await onB.RecordFailureAsync("splunk", "instance-b", new string('x', 5000), now, TestContext.Timeout);

        var cursor = Assert.Single(await onA.ReadAllAsync(TestContext.Timeout));
        Assert.Equal(("splunk", 40L, "instance-b"), (cursor.Sink, cursor.Sequence, cursor.LeaseOwner));
        Assert.Equal(1024, cursor.LastError!.Length);
        Assert.Equal(now, cursor.LastErrorAt);

        // Given up at shutdown: the other instance takes it at once, and a success clears the error.
        await onB.ReleaseAsync("splunk", "instance-b", TestContext.Timeout);
        Assert.Equal(40, await onA.TryLeaseAsync("splunk", "instance-a", 0, now, now + Lease, TestContext.Timeout));
        Assert.True(await onA.AdvanceAsync("splunk", "instance-a", 41, now, now + Lease, TestContext.Timeout));
        cursor = Assert.Single(await onB.ReadAllAsync(TestContext.Timeout));
        Assert.Equal((41L, (string?)null, (DateTimeOffset?)now), (cursor.Sequence, cursor.LastError, cursor.LastSuccessAt));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ContendedLease_IsTakenByExactlyOne(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var now = _time.GetUtcNow();
        for (var round = 0; round < 20; round++)
        {
            var sink = $"sink-{round}";
            var results = await Task.WhenAll(
                a.Services.GetRequiredService<ISiemCursorStore>().TryLeaseAsync(sink, "instance-a", 0, now, now + Lease, TestContext.Timeout),
                b.Services.GetRequiredService<ISiemCursorStore>().TryLeaseAsync(sink, "instance-b", 0, now, now + Lease, TestContext.Timeout));
            Assert.Single(results, r => r is not null);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task CheckpointCursor_StartsWithTheSink_IsFencedByTheLease_AndCheckpointsReadInRanges(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<ISiemCursorStore>();
        var onB = b.Services.GetRequiredService<ISiemCursorStore>();
        var now = _time.GetUtcNow();

        // A sink that starts at the end starts its checkpoints there too: no history is sent.
        Assert.Equal(7, await onA.TryLeaseAsync("splunk", "instance-a", 7, now, now + Lease, TestContext.Timeout));
        Assert.Equal(7, await onB.ReadCheckpointCursorAsync("splunk", TestContext.Timeout));
        Assert.Equal(0, await onB.ReadCheckpointCursorAsync("unknown", TestContext.Timeout));
        Assert.True(await onA.AdvanceCheckpointsAsync("splunk", "instance-a", 20, now, now + Lease, TestContext.Timeout));
        Assert.False(await onB.AdvanceCheckpointsAsync("splunk", "instance-b", 30, now, now + Lease, TestContext.Timeout));
        Assert.False(await onA.AdvanceCheckpointsAsync("splunk", "instance-a", 19, now, now + Lease, TestContext.Timeout));
        var cursor = Assert.Single(await onB.ReadAllAsync(TestContext.Timeout));
        Assert.Equal((7L, 20L), (cursor.Sequence, cursor.CheckpointSequence));

        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var checkpoints = a.Services.GetRequiredService<IAuditCheckpointStore>();
        foreach (var sequence in new long[] { 5, 10, 15, 20, 25 })
        {
            await checkpoints.AddAsync(AuditCheckpoints.Sign(sequence, new string('a', 64), now, key), TestContext.Timeout);
        }

        var range = await b.Services.GetRequiredService<IAuditCheckpointStore>().ReadRangeAsync(5, 20, 2, TestContext.Timeout);
        Assert.Equal([10L, 15L], range.Select(c => c.Sequence));
        Assert.All(range, c => Assert.True(AuditCheckpoints.IsValid(c, key)));
        Assert.Empty(await checkpoints.ReadRangeAsync(25, 100, 10, TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task WitnessStates_AreSharedByInstances_NeverMoveBack_AndBoundTheirText(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<IAuditWitnessStateStore>();
        var onB = b.Services.GetRequiredService<IAuditWitnessStateStore>();
        var now = _time.GetUtcNow();
        var longName = "directory /" + new string('d', 600);

        await onA.RecordFailedAsync("https://witness.example/", new string('x', 5000), now, TestContext.Timeout);
        await onA.RecordPushedAsync("https://witness.example/", 40, now, TestContext.Timeout);
        await onB.RecordPushedAsync("https://witness.example/", 30, now + TimeSpan.FromSeconds(1), TestContext.Timeout);
        await onB.RecordPushedAsync(longName, 12, now, TestContext.Timeout);

        var states = await onA.ReadAllAsync(TestContext.Timeout);
        var https = Assert.Single(states, s => s.Name == "https://witness.example/");
        Assert.Equal((40L, (DateTimeOffset?)now), (https.LastSequence, https.LastPushedAt));
        Assert.Equal(1024, https.LastError!.Length);
        Assert.False(https.Failing);
        var cut = Assert.Single(states, s => s.Name.StartsWith("directory", StringComparison.Ordinal));
        Assert.Equal((IAuditWitnessStateStore.MaxNameLength, 12L), (cut.Name.Length, cut.LastSequence));

        // A failure after the push makes it failing; one that never took anything shows no checkpoint.
        await onB.RecordFailedAsync("https://witness.example/", "refused", now + TimeSpan.FromSeconds(2), TestContext.Timeout);
        await onB.RecordFailedAsync("https://down.example/", "refused", now, TestContext.Timeout);
        states = await onA.ReadAllAsync(TestContext.Timeout);
        Assert.True(Assert.Single(states, s => s.Name == "https://witness.example/").Failing);
        Assert.Null(Assert.Single(states, s => s.Name == "https://down.example/").LastSequence);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Tail_ReadsBoundedBatchesAfterACursor(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, time: _time);
        var tail = db.Services.GetRequiredService<IAuditTail>();
        Assert.Equal(0, await tail.ReadHeadAsync(TestContext.Timeout));
        for (var i = 1; i <= 25; i++)
        {
            await db.Sink.WriteAsync(AuditChainTests.Sample(i), TestContext.Timeout);
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);
        Assert.Equal(25, await tail.ReadHeadAsync(TestContext.Timeout));
        var batch = await tail.ReadAfterAsync(10, 7, TestContext.Timeout);
        Assert.Equal(Enumerable.Range(11, 7).Select(i => (long)i), batch.Select(e => e.Sequence));
        Assert.All(batch, e => Assert.NotNull(e.Hash));
        Assert.Empty(await tail.ReadAfterAsync(25, 100, TestContext.Timeout));
    }
}
