using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The stored checkpoints and entries are read a page at a time, in sequence order, on both engines: every one across
/// pages, and none written after the reading started (a checkpoint could cover entries written after the verifier took
/// its range; an export is the trail as it stood when it began). Between pages no read is held open.
/// </summary>
public sealed class AuditChainReaderTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Checkpoints_AreReadAPageAtATime_UpToTheNewestWhenReadingStarted(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var store = db.Services.GetRequiredService<IAuditCheckpointStore>();
        var count = (2 * AuditChainReader.CheckpointPage) + 7;
        for (var sequence = 1; sequence <= count; sequence++)
        {
            Assert.True(await store.AddAsync(Checkpoint(sequence), TestContext.Timeout));
        }

        // Read to the middle of the second page; a checkpoint signed now is past the newest when reading started.
        using var reading = db.Reader.ReadCheckpoints().GetEnumerator();
        var read = new List<long>();
        while (read.Count < AuditChainReader.CheckpointPage + 10 && reading.MoveNext())
        {
            read.Add(reading.Current.Sequence);
        }

        Assert.True(await store.AddAsync(Checkpoint(count + 1), TestContext.Timeout));
        while (reading.MoveNext())
        {
            read.Add(reading.Current.Sequence);
        }

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), read);

        // A new reading sees it; an empty table reads nothing.
        Assert.Equal(count + 1, db.Reader.ReadCheckpoints().Count());
        await using var empty = await AuditDatabase.OpenAsync(provider);
        Assert.Empty(empty.Reader.ReadCheckpoints());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Entries_AreReadAPageAtATime_Filtered_UpToTheNewestWhenReadingStarted_HoldingNoReadOpen(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var perActor = (2 * AuditChainReader.EntryPage) + 7;
        for (var i = 0; i < perActor; i++)
        {
            foreach (var actor in new[] { "a", "b" })
            {
                await db.Sink.WriteAsync(new AuditRecord { Timestamp = DateTimeOffset.UtcNow, Kind = AuditKinds.ToolCall, Actor = actor, Decision = "allow", Outcome = AuditOutcomes.Ok }, TestContext.Timeout);
            }
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);

        // Read one actor's entries to the middle of its second page; an entry written now is past the newest when reading started.
        using var reading = db.Reader.ReadEntries(new AuditFilter { Agent = "a" }).GetEnumerator();
        var read = new List<long>();
        while (read.Count < AuditChainReader.EntryPage + 10 && reading.MoveNext())
        {
            read.Add(reading.Current.Sequence);
        }

        await db.Sink.CommitAsync(new AuditRecord { Timestamp = DateTimeOffset.UtcNow, Kind = AuditKinds.ToolCall, Actor = "a", Decision = "allow", Outcome = AuditOutcomes.Ok }, TestContext.Timeout);
        if (provider == DatabaseProvider.Sqlite)
        {
            // Between pages the reader holds no read: a checkpoint that copies the entry just written into the file and
            // empties the WAL, which an open read from before it would block (1) for as long as it stayed open, completes
            // (0). Polled: one attempt may meet the writer's own checkpoint, which SQLite reports the same way.
            await using var connection = db.Database.OpenConnection();
            await Eventually.TrueAsync(async () =>
            {
                await using var checkpoint = connection.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                await using var result = await checkpoint.ExecuteReaderAsync(TestContext.Timeout);
                return await result.ReadAsync(TestContext.Timeout) && result.GetInt64(0) == 0;
            }, "a checkpoint of the whole WAL completed while the reader was between pages");
        }

        while (reading.MoveNext())
        {
            read.Add(reading.Current.Sequence);
        }

        Assert.Equal(Enumerable.Range(0, perActor).Select(i => (2L * i) + 1), read);

        // A new reading sees it, and so does one with no filter (every page of both actors); an empty table reads nothing.
        Assert.Equal(perActor + 1, db.Reader.ReadEntries(new AuditFilter { Agent = "a" }).Count());
        Assert.Equal(Enumerable.Range(1, (2 * perActor) + 1).Select(i => (long)i), db.Reader.ReadEntries().Select(e => e.Sequence));
        await using var empty = await AuditDatabase.OpenAsync(provider);
        Assert.Empty(empty.Reader.ReadEntries());
    }

    private static AuditCheckpoint Checkpoint(long sequence) =>
        new(sequence, sequence.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero).AddSeconds(sequence), "key-1", "signature-" + sequence);
}
