using Gateway.Tests.Support;
using Gateway.Web.Hosting;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// What follows the database (snapshots, the approval relay) re-reads on every change, and a re-read that failed is run
/// again without waiting for another commit: a failure would otherwise leave a snapshot stale (a revoked key still
/// accepted) until the next change: SQLite's watch reports changes of the watched tables only. Real SQLite file, real
/// change watch.
/// </summary>
public sealed class DatabaseChangeLoopTests
{
    [Fact]
    public async Task ARunThatFailed_IsRunAgain_WithoutAnotherChange_AndChangesStillRunIt()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();

        var runs = 0;
        var failures = new List<Exception>();
        using var stop = new CancellationTokenSource();
        var loop = DatabaseChangeLoop.RunAsync(
            monitor,
            _ => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("the file is busy") : Task.CompletedTask,
            ex => { lock (failures) { failures.Add(ex); } },
            TimeProvider.System,
            stop.Token);

        // One change: the first run fails; the second comes from the retry, the version unchanged.
        AuditDatabase.CommitWatchedChange(db.Path);
        await Eventually.TrueAsync(() => Volatile.Read(ref runs) >= 2, "the failed run is run again");
        var afterRetry = monitor.Version;
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.Equal("the file is busy", Assert.Single(failures).Message);

        // Back to waiting for changes: the next one runs it once more.
        AuditDatabase.CommitWatchedChange(db.Path);
        await Eventually.TrueAsync(() => Volatile.Read(ref runs) >= 3, "the change after the retry is run for");
        Assert.True(monitor.Version > afterRetry);

        await stop.CancelAsync();
        await loop;
        await monitor.StopAsync(TestContext.Timeout);
    }
}
