namespace Gateway.Core.Limits;

/// <summary>Which limit refused a call.</summary>
public enum LimitKind
{
    /// <summary>None: the call may go ahead.</summary>
    None,

    /// <summary>Too many calls started in the current UTC minute.</summary>
    RequestsPerMinute,

    /// <summary>Too many calls in flight at once.</summary>
    Concurrency,

    /// <summary>The calls of the current UTC day are used up.</summary>
    DailyQuota,
}

/// <summary>An agent's usage now: calls started in the current minute, in flight, started today (UTC).</summary>
public readonly record struct AgentUsage(int ThisMinute, int InFlight, int Today);

/// <summary>
/// The counters behind the limits. Check-and-count is one atomic step, so two calls racing for the last slot cannot
/// both get it. <see cref="UsageCounters"/> decides in memory and shares its counts with the other instances through
/// the database in the background: a call costs a lock, never a database round trip.
/// </summary>
public interface IUsageCounters
{
    /// <summary>Counts a call that is starting, unless a limit is reached; then nothing is counted and the limit is returned.</summary>
    LimitKind TryAcquire(CounterKey key, EffectiveLimits limits, DateTimeOffset now);

    /// <summary>Which window limit (per minute, per day) would refuse a call now, counting nothing; calls in flight are not looked at.</summary>
    LimitKind Peek(CounterKey key, EffectiveLimits limits, DateTimeOffset now);

    /// <summary>A call counted by <see cref="TryAcquire"/> ended, or waits for a person (in flight one less).</summary>
    void Release(CounterKey key);

    /// <summary>A call that gave its slot back while waiting for approval is in flight again: counted without a check, since a person decided it goes ahead.</summary>
    void Reenter(CounterKey key);

    /// <summary>Takes back an acquire that another limit of the same call then refused: a refused call counts nowhere.</summary>
    void Undo(CounterKey key, DateTimeOffset now);

    /// <summary>The counter's usage at <paramref name="now"/>.</summary>
    AgentUsage Usage(CounterKey key, DateTimeOffset now);
}
