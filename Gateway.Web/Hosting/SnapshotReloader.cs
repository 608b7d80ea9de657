namespace Gateway.Web.Hosting;

/// <summary>
/// Keeps an in-memory snapshot of database state current: loaded before the host starts serving, rebuilt at once by the
/// API after a local change, and re-read every <paramref name="interval"/> for changes made by other instances. A failed
/// reload keeps serving the last good snapshot.
/// </summary>
internal abstract partial class SnapshotReloader(TimeSpan interval, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>Re-reads the database and swaps the snapshot if it changed.</summary>
    public abstract Task ReloadAsync(CancellationToken cancellationToken);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogReloadFailed(logger, ex, GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Snapshot}: reloading from the database failed; keeping the previous snapshot.")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception, string snapshot);
}
