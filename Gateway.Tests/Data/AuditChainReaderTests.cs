using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The stored checkpoints are read a page at a time, in sequence order, on both engines: every one across pages, and
/// none signed after the reading started (it could cover entries written after the verifier took its range).
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

    private static AuditCheckpoint Checkpoint(long sequence) =>
        new(sequence, sequence.ToString("x64", System.Globalization.CultureInfo.InvariantCulture), new DateTimeOffset(2026, 12, 6, 4, 0, 0, TimeSpan.Zero).AddSeconds(sequence), "key-1", "signature-" + sequence);
}
