namespace Gateway.Core.Limits;

/// <summary>
/// A call's slot under the agent's limits: disposing it ends the call's time in flight (once, however often it is
/// disposed). A refused lease holds nothing and says which limit refused and when to retry.
/// </summary>
public sealed class LimitLease : IDisposable
{
    private readonly IUsageCounters? _counters;
    private readonly CounterKey[] _keys = [];
    private int _released;

    internal LimitLease(IUsageCounters counters, CounterKey[] keys) => (_counters, _keys) = (counters, keys);

    private LimitLease(LimitKind refused, string message, TimeSpan retryAfter) => (Refused, Message, RetryAfter) = (refused, message, retryAfter);

    /// <summary>Gets the limit that refused the call, or <see cref="LimitKind.None"/>.</summary>
    public LimitKind Refused { get; }

    /// <summary>Gets a value indicating whether the call was refused.</summary>
    public bool IsRefused => Refused != LimitKind.None;

    /// <summary>Gets the refusal's message, naming the limit and when to retry.</summary>
    public string? Message { get; }

    /// <summary>Gets how long to wait before retrying (whole seconds).</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// Gives the slot back while the call waits for a person's approval: a held call is no load on any upstream, and
    /// fifty calls waiting for a reviewer must not lock the agent out of its other tools.
    /// </summary>
    public void Park()
    {
        if (_counters is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            foreach (var key in _keys)
            {
                _counters.Release(key);
            }
        }
    }

    /// <summary>Takes the slot again once approved, without a check: a person decided this call goes ahead.</summary>
    public void Resume()
    {
        if (_counters is not null && Interlocked.Exchange(ref _released, 0) == 1)
        {
            foreach (var key in _keys)
            {
                _counters.Reenter(key);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_counters is not null && Interlocked.Exchange(ref _released, 1) == 0)
        {
            foreach (var key in _keys)
            {
                _counters.Release(key);
            }
        }
    }

    internal static LimitLease Refuse(LimitKind kind, string message, TimeSpan retryAfter) => new(kind, message, retryAfter);
}
