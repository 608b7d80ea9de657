using Gateway.Core.Sessions;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// A task this instance follows: its lease as this instance last wrote it (what proves the lease is still its own, see
/// <see cref="IFollowedTaskStore"/>), and the token that ends the follow when the instance stops or the lease is lost.
/// </summary>
internal sealed class HeldTask(CancellationToken stopping) : IDisposable
{
    private readonly CancellationTokenSource _following = CancellationTokenSource.CreateLinkedTokenSource(stopping);

    // Unix milliseconds, as the database keeps it; 0 while the database holds no lease of this instance's (the task is
    // not written yet, or could not be).
    private long _leaseMs;

    /// <summary>Gets the token of the follow: cancelled when the instance stops or the lease is lost.</summary>
    public CancellationToken Token => _following.Token;

    /// <summary>Gets the lease this instance holds on the task, or <see langword="null"/> when it holds none in the database.</summary>
    public TaskLease? Lease(string callId) =>
        Volatile.Read(ref _leaseMs) is var ms and not 0 ? new TaskLease(callId, DateTimeOffset.FromUnixTimeMilliseconds(ms)) : null;

    /// <summary>Records the lease time this instance just wrote (added, claimed or renewed).</summary>
    public void Hold(DateTimeOffset until) => Volatile.Write(ref _leaseMs, until.ToUnixTimeMilliseconds());

    /// <summary>Ends the follow: the lease is another instance's now, or the task is gone.</summary>
    public void Lose()
    {
        try
        {
            _following.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its follow has just ended on its own.
        }
    }

    public void Dispose() => _following.Dispose();
}
