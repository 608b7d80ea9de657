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
/// both get it. The single-instance implementation (<see cref="InMemoryUsageCounters"/>) keeps them in memory: a call
/// costs a lock, never a database round trip.
/// </summary>
/// <remarks>
/// Several instances behind one database each count their own calls: an agent whose calls are spread over N instances
/// can make up to N times its limits. The port is shaped for a shared implementation (see README, "Guardrails and
/// limits"): a call is counted locally at once and the totals exchanged in batches, so the hot path stays in memory.
/// </remarks>
public interface IUsageCounters
{
    /// <summary>Counts a call that is starting, unless a limit is reached; then nothing is counted and the limit is returned.</summary>
    LimitKind TryAcquire(long agentId, EffectiveLimits limits, DateTimeOffset now);

    /// <summary>A call counted by <see cref="TryAcquire"/> ended, or waits for a person (in flight one less).</summary>
    void Release(long agentId);

    /// <summary>A call that gave its slot back while waiting for approval is in flight again: counted without a check, since a person decided it goes ahead.</summary>
    void Reenter(long agentId);

    /// <summary>Takes back an acquire that another limit of the same call then refused: a refused call counts nowhere.</summary>
    void Undo(long agentId, DateTimeOffset now);

    /// <summary>The agent's usage at <paramref name="now"/>.</summary>
    AgentUsage Usage(long agentId, DateTimeOffset now);
}
