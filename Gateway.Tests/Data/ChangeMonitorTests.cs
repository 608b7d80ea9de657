using Gateway.Data.Sqlite;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Data;

/// <summary>
/// SQLite's change watch reports commits made through other connections (another instance on the same file), including
/// one made before its first look; it reports a change to the snapshots only when a watched table changed, not for the
/// audit entries written on every call. SQLite only by nature: PostgreSQL pushes changes (LISTEN/NOTIFY), tested on both
/// engines in <see cref="ChangePropagationTests"/>.
/// </summary>
public sealed class ChangeMonitorTests
{
    [Fact]
    public async Task ACommitThroughAnotherConnection_IsReported_AlsoBeforeTheFirstLook()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = new SqliteChangeMonitor(db.ConnectionString, TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger<SqliteChangeMonitor>.Instance);
        IDatabaseChanges changes = monitor;
        IDatabaseCommits commits = monitor;
        var (seenChange, seenCommit) = (changes.Version, commits.Version);

        // Committed before the watch has looked once: it must not become the silent baseline.
        AuditDatabase.CommitWatchedChange(db.Path);
        await monitor.StartAsync(TestContext.Timeout);
        seenChange = await changes.WaitForChangeAsync(seenChange, TestContext.Timeout);
        seenCommit = await commits.WaitForCommitAsync(seenCommit, TestContext.Timeout);

        // And a later one is reported again, to both.
        var laterChange = changes.WaitForChangeAsync(seenChange, TestContext.Timeout);
        var laterCommit = commits.WaitForCommitAsync(seenCommit, TestContext.Timeout);
        AuditDatabase.CommitWatchedChange(db.Path);
        Assert.True(await laterChange > seenChange);
        Assert.True(await laterCommit > seenCommit);
        await monitor.StopAsync(TestContext.Timeout);
    }

    [Fact]
    public async Task AuditWrites_AreReportedAsCommits_NotAsChangesToTheSnapshots()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();
        IDatabaseChanges changes = monitor;
        IDatabaseCommits commits = monitor;

        // The first look reports a commit too, right after its change: taken as the baseline, so the next commit
        // reported is the audit writer's. (A change reported with every commit would come before it, and show below.)
        var seenCommit = await commits.WaitForCommitAsync(0, TestContext.Timeout);
        var seenChange = changes.Version;

        // The audit writer's own connection commits entries, as on every call: the commit watch sees them...
        var committed = commits.WaitForCommitAsync(seenCommit, TestContext.Timeout);
        await db.Sink.CommitAsync(AuditChainTests.Sample(1), TestContext.Timeout);
        await db.Sink.WriteAsync(AuditChainTests.Sample(2), TestContext.Timeout);
        await db.Flusher.FlushAsync(TestContext.Timeout);
        seenCommit = await committed;

        // ...and, having looked after them, reported no change to what the snapshots hold.
        Assert.Equal(seenChange, changes.Version);

        // A watched table's change, after them, is reported.
        var changed = changes.WaitForChangeAsync(seenChange, TestContext.Timeout);
        AuditDatabase.CommitWatchedChange(db.Path);
        Assert.True(await changed > seenChange);
        await monitor.StopAsync(TestContext.Timeout);
    }
}
