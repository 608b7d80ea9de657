using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// Reloads of one snapshot run in turn. Seen in CI on PostgreSQL: a virtual server's save notified every instance, the
/// notified reload read the table, the server was deleted and the API's own reload put the set without it in force,
/// then the notified reload finished and put its older set back, so the deleted endpoint answered again. Real SQLite
/// change watch; the reloader's read is held open by the test to make that order happen every time.
/// </summary>
public sealed class SnapshotReloaderTests
{
    [Fact]
    public async Task AReloadThatReadBeforeAChange_NeverPutsItsOlderSnapshotInForceAfterTheChangesOwnReload()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();
        var reloader = new HeldReloader(monitor) { Table = "with edge" };

        // A change signal's reload reads the table, then is slow to finish (a big set being built).
        var notified = reloader.ReloadAsync(TestContext.Timeout);
        await reloader.FirstRead.Task.WaitAsync(TestContext.Timeout);

        // The delete commits and the API reloads at once: it waits for the reload that is running.
        reloader.Table = "without edge";
        var local = reloader.ReloadAsync(TestContext.Timeout);
        Assert.Equal(["with edge"], reloader.Reads);
        Assert.False(local.IsCompleted);

        reloader.Release.SetResult();
        await Task.WhenAll(notified, local).WaitAsync(TestContext.Timeout);
        Assert.Equal(["with edge", "without edge"], reloader.Reads);
        Assert.Equal("without edge", reloader.InForce);
    }

    [Fact]
    public async Task AReloadThatFailed_LetsTheNextOneRun()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = await db.WatchAsync();
        var reloader = new HeldReloader(monitor) { Table = "broken" };
        reloader.Release.SetResult();

        await Assert.ThrowsAsync<InvalidOperationException>(() => reloader.ReloadAsync(TestContext.Timeout));
        reloader.Table = "fixed";
        await reloader.ReloadAsync(TestContext.Timeout).WaitAsync(TestContext.Timeout);
        Assert.Equal("fixed", reloader.InForce);
    }

    /// <summary>Reads <see cref="Table"/>; the first read waits for <see cref="Release"/> before its snapshot is put in force.</summary>
    private sealed class HeldReloader(IDatabaseChanges changes) : SnapshotReloader(changes, NullLogger.Instance)
    {
        public string Table { get; set; } = string.Empty;

        public List<string> Reads { get; } = [];

        public string? InForce { get; private set; }

        public TaskCompletionSource FirstRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task ReloadCoreAsync(CancellationToken cancellationToken)
        {
            var read = Table;
            Reads.Add(read);
            if (read == "broken")
            {
                throw new InvalidOperationException("the connection dropped");
            }

            if (Reads.Count == 1)
            {
                FirstRead.SetResult();
                await Release.Task.WaitAsync(cancellationToken);
            }

            InForce = read;
        }
    }
}
