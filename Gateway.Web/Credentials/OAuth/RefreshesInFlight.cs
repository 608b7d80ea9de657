using System.Collections.Concurrent;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// The token requests under way, so stopping waits for them: a refresh token the authorization server has rotated is
/// spent the moment it answers, and the rotated one exists only in that answer until it is stored. Abandoning the request
/// at shutdown would leave the stored token spent and the server unusable after a restart.
/// </summary>
internal sealed class RefreshesInFlight
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Gets how many are under way.</summary>
    public int Count => _running.Count;

    public void Track(Task refresh)
    {
        _running.TryAdd(refresh, 0);
        refresh.ContinueWith(static (done, state) => ((RefreshesInFlight)state!)._running.TryRemove(done, out _), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits until every refresh under way has ended (stored its token or failed), at most <paramref name="limit"/>.</summary>
    /// <returns>Whether they all ended in time.</returns>
    public async Task<bool> WaitAsync(TimeSpan limit)
    {
        var running = _running.Keys.ToArray();
        if (running.Length == 0)
        {
            return true;
        }

        // A tracked refresh never faults (its waiters get its error), so only the limit can end this early.
        try
        {
            await Task.WhenAll(running).WaitAsync(limit);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
