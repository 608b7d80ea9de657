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
    // One reload at a time: a change signal's reload that read before a local change committed must not put its older
    // snapshot in force after the local change's own reload (a deleted virtual server served again, a revoked user let
    // back in). In turn, the last reload to run is the last to have started, so it read the newest state.
    private readonly SemaphoreSlim _reloading = new(1, 1);

    /// <summary>Re-reads the database and swaps the snapshot if it changed; after every reload started before it.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            await ReloadCoreAsync(cancellationToken);
        }
        finally
        {
            _reloading.Release();
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>A failed reload keeps the previous snapshot and is tried again shortly (see <see cref="DatabaseChangeLoop"/>).</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        DatabaseChangeLoop.RunAsync(changes, ReloadAsync, ex => LogReloadFailed(logger, ex, GetType().Name), TimeProvider.System, stoppingToken);

    /// <summary>Re-reads the database and swaps the snapshot if it changed (never two at once: see <see cref="ReloadAsync"/>).</summary>
    protected abstract Task ReloadCoreAsync(CancellationToken cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Snapshot}: reloading from the database failed; keeping the previous snapshot and trying again.")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, string snapshot);
}
