using Gateway.Data.Stores;

namespace Gateway.Web.Hosting;

/// <summary>
/// The loop of whatever follows the database: runs its work after every change the watch reports, and after a failed
/// run runs it again (<see cref="FirstRetry"/>, doubling up to <see cref="MaxRetry"/>) without waiting for another
/// change. A re-read that failed (the file busy, the connection dropped) is not left stale until the next commit or
/// the watch's 5-minute reconciliation.
/// </summary>
internal static class DatabaseChangeLoop
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

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
                retry = retry == TimeSpan.Zero ? FirstRetry : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks));
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
