using Gateway.Core.Agents;

namespace Gateway.Core.Limits;

/// <summary>
/// Decides whether an agent may start a tool call now, under its own limits or the gateway's defaults, and words the
/// refusal: which limit, its value, and when to retry.
/// </summary>
public sealed class CallLimiter(IUsageCounters counters, LimitOptions defaults, TimeProvider time)
{
    /// <summary>Gets the defaults that apply where an agent has no value of its own.</summary>
    public LimitOptions Defaults => defaults;

    /// <summary>Counts a call that starts at <paramref name="now"/>; dispose the lease when the call ends (a refused lease holds nothing).</summary>
    public LimitLease Acquire(AgentIdentity agent, DateTimeOffset now)
    {
        var limits = agent.Limits.Resolve(defaults);
        return counters.TryAcquire(agent.Id, limits, now) switch
        {
            LimitKind.None => new LimitLease(counters, agent.Id),
            var kind => LimitLease.Refuse(kind, Describe(kind, agent.Name, limits, now, out var retry), retry),
        };
    }

    /// <summary>The agent's usage now, for the console and the API.</summary>
    public AgentUsage Usage(long agentId) => counters.Usage(agentId, time.GetUtcNow());

    private static string Describe(LimitKind kind, string agent, EffectiveLimits limits, DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = kind switch
        {
            LimitKind.RequestsPerMinute => Until((InMemoryUsageCounters.MinuteOf(now) + 1) * 60, now),
            LimitKind.DailyQuota => Until((InMemoryUsageCounters.DayOf(now) + 1) * 86_400, now),

            // No clock frees a concurrency slot: another call must finish. A second is a polite first back-off.
            _ => TimeSpan.FromSeconds(1),
        };
        var seconds = (long)retryAfter.TotalSeconds;
        return kind switch
        {
            LimitKind.RequestsPerMinute => $"Rate limit reached: agent '{agent}' may start {limits.RequestsPerMinute} tool calls per minute. Retry after {seconds} s.",
            LimitKind.DailyQuota => $"Daily quota reached: agent '{agent}' may start {limits.DailyQuota} tool calls per UTC day. Retry after {seconds} s (00:00 UTC).",
            _ => $"Concurrency limit reached: agent '{agent}' may have {limits.MaxConcurrent} tool calls in flight at once. Retry when one finishes.",
        };
    }

    /// <summary>Whole seconds from <paramref name="now"/> to a Unix time, rounded up and at least 1, as Retry-After wants.</summary>
    private static TimeSpan Until(long unixSeconds, DateTimeOffset now)
    {
        var ms = (unixSeconds * 1000) - now.ToUnixTimeMilliseconds();
        return TimeSpan.FromSeconds(Math.Max(1, (ms + 999) / 1000));
    }
}
