using Gateway.Data.Stores;

namespace Gateway.Web.Hosting;

/// <summary>
/// The loop of whatever follows the database: runs its work after every change the watch reports, and after a failed
/// run runs it again (<see cref="FirstRetry"/>, doubling up to <see cref="MaxRetry"/>) without waiting for another
/// change. A re-read that failed (the file busy, the connection dropped) is not left stale until the next commit (on
/// SQLite the watch reports only commits; PostgreSQL's adds a 5-minute reconciliation for missed notifications).
/// </summary>
internal static class DatabaseChangeLoop
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    /// <summary>The wait before the next try after a failure: <see cref="FirstRetry"/>, then double the last, at most <see cref="MaxRetry"/>.</summary>
    public static TimeSpan NextRetry(TimeSpan last) =>
        last == TimeSpan.Zero ? FirstRetry : TimeSpan.FromTicks(Math.Min(last.Ticks * 2, MaxRetry.Ticks));

    public static async Task RunAsync(
        IDatabaseChanges changes,
        Func<CancellationToken, Task> work,
        Action<Exception> failed,
        TimeProvider time,
        CancellationToken stoppingToken)
    {
        var seen = changes.Version;
        var retry = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Retrying: the version now, so a change that lands during the retried run is run for again.
                var next = retry == TimeSpan.Zero ? await changes.WaitForChangeAsync(seen, stoppingToken) : changes.Version;
                await work(stoppingToken);
                seen = next;
                retry = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failed(ex);
                retry = NextRetry(retry);
                try
                {
                    await Task.Delay(retry, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
