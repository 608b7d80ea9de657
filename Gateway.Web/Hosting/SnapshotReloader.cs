using Gateway.Data.Stores;

namespace Gateway.Web.Hosting;

/// <summary>
/// Keeps an in-memory snapshot of database state current: loaded before the host starts serving, rebuilt at once by the
/// API after a local change, and re-read when <paramref name="changes"/> reports that the database changed (another
/// instance's change), not on a timer: an idle gateway runs no queries. A failed reload keeps serving the last good
/// snapshot and is tried again until one succeeds.
/// </summary>
internal abstract partial class SnapshotReloader(IDatabaseChanges changes, ILogger logger) : BackgroundService
{
    /// <summary>Re-reads the database and swaps the snapshot if it changed.</summary>
    public abstract Task ReloadAsync(CancellationToken cancellationToken);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>A failed reload keeps the previous snapshot and is tried again shortly (see <see cref="DatabaseChangeLoop"/>).</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        DatabaseChangeLoop.RunAsync(changes, ReloadAsync, ex => LogReloadFailed(logger, ex, GetType().Name), TimeProvider.System, stoppingToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Snapshot}: reloading from the database failed; keeping the previous snapshot and trying again.")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, string snapshot);
}
