using System.Collections.Concurrent;

namespace Gateway.Core.Limits;

/// <summary>
/// Per-agent counters in this process: a fixed window per UTC minute, calls in flight, and a count per UTC day.
/// </summary>
/// <remarks>
/// Fixed windows aligned to the clock (not sliding) so that the retry time an agent is told is exact and the same on
/// every instance; the price is that a burst straddling a minute boundary can reach twice the per-minute limit over
/// a few seconds, which the concurrency limit bounds. One small lock per agent: agents do not contend with each other.
/// Counters live as long as the process (one entry per agent that ever called, a few dozen bytes each).
/// </remarks>
public sealed class InMemoryUsageCounters : IUsageCounters
{
    private readonly ConcurrentDictionary<long, Counter> _agents = new();

    /// <inheritdoc/>
    public LimitKind TryAcquire(long agentId, EffectiveLimits limits, DateTimeOffset now)
    {
        var counter = _agents.GetOrAdd(agentId, static _ => new Counter());
        lock (counter)
        {
            counter.Roll(now);
            if (limits.MaxConcurrent > 0 && counter.InFlight >= limits.MaxConcurrent)
            {
                return LimitKind.Concurrency;
            }

            if (limits.RequestsPerMinute > 0 && counter.ThisMinute >= limits.RequestsPerMinute)
            {
                return LimitKind.RequestsPerMinute;
            }

            if (limits.DailyQuota > 0 && counter.Today >= limits.DailyQuota)
            {
                return LimitKind.DailyQuota;
            }

            counter.InFlight++;
            counter.ThisMinute++;
            counter.Today++;
            return LimitKind.None;
        }
    }

    /// <inheritdoc/>
    public void Release(long agentId)
    {
        if (_agents.TryGetValue(agentId, out var counter))
        {
            lock (counter)
            {
                counter.InFlight = Math.Max(0, counter.InFlight - 1);
            }
        }
    }

    /// <inheritdoc/>
    public void Reenter(long agentId)
    {
        var counter = _agents.GetOrAdd(agentId, static _ => new Counter());
        lock (counter)
        {
            counter.InFlight++;
        }
    }

    /// <inheritdoc/>
    public void Undo(long agentId, DateTimeOffset now)
    {
        if (_agents.TryGetValue(agentId, out var counter))
        {
            lock (counter)
            {
                counter.Roll(now);
                counter.InFlight = Math.Max(0, counter.InFlight - 1);
                counter.ThisMinute = Math.Max(0, counter.ThisMinute - 1);
                counter.Today = Math.Max(0, counter.Today - 1);
            }
        }
    }

    /// <inheritdoc/>
    public AgentUsage Usage(long agentId, DateTimeOffset now)
    {
        if (!_agents.TryGetValue(agentId, out var counter))
        {
            return default;
        }

        lock (counter)
        {
            counter.Roll(now);
            return new AgentUsage(counter.ThisMinute, counter.InFlight, counter.Today);
        }
    }

    /// <summary>The UTC minute (since the Unix epoch) <paramref name="now"/> falls in.</summary>
    internal static long MinuteOf(DateTimeOffset now) => now.ToUnixTimeSeconds() / 60;

    /// <summary>The UTC day (since the Unix epoch) <paramref name="now"/> falls in.</summary>
    internal static long DayOf(DateTimeOffset now) => now.ToUnixTimeSeconds() / 86_400;

    private sealed class Counter
    {
        private long _minute = long.MinValue;
        private long _day = long.MinValue;

        public int InFlight { get; set; }

        public int ThisMinute { get; set; }

        public int Today { get; set; }

        /// <summary>Starts a new window or day when the clock has moved past the current one.</summary>
        public void Roll(DateTimeOffset now)
        {
            var minute = MinuteOf(now);
            if (minute != _minute)
            {
                (_minute, ThisMinute) = (minute, 0);
            }

            var day = DayOf(now);
            if (day != _day)
            {
                (_day, Today) = (day, 0);
            }
        }
    }
}
