using Gateway.Core.Agents;

namespace Gateway.Core.Limits;

/// <summary>
/// Decides whether an agent may start a tool call now, under its own limits (or the gateway's defaults) and the
/// per-tool rules that match the call, and words the refusal: which limit, its value, and when to retry.
/// </summary>
public sealed class CallLimiter
{
    private readonly IUsageCounters _counters;
    private readonly LimitOptions _defaults;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<ToolLimitRule> _tools;

    /// <exception cref="InvalidOperationException">A per-tool rule is invalid (the message lists every problem).</exception>
    public CallLimiter(IUsageCounters counters, LimitOptions defaults, TimeProvider time)
    {
        var errors = new List<string>();
        _tools = ToolLimitRule.From(defaults, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        (_counters, _defaults, _time) = (counters, defaults, time);
    }

    /// <summary>Gets the defaults that apply where an agent has no value of its own.</summary>
    public LimitOptions Defaults => _defaults;

    /// <summary>Gets the per-tool rules.</summary>
    public IReadOnlyList<ToolLimitRule> ToolRules => _tools;

    /// <summary>Counts a call that starts at <paramref name="now"/> under the agent's own limits only.</summary>
    public LimitLease Acquire(AgentIdentity agent, DateTimeOffset now) => Acquire(agent, null, null, now);

    /// <summary>
    /// Counts a call of <paramref name="tool"/> on <paramref name="server"/> that starts at <paramref name="now"/>;
    /// dispose the lease when the call ends (a refused lease holds nothing, and counts nowhere).
    /// </summary>
    public LimitLease Acquire(AgentIdentity agent, string? server, string? tool, DateTimeOffset now)
    {
        var limits = agent.Limits.Resolve(_defaults);
        var kind = _counters.TryAcquire(Key(agent.Id, 0), limits, now);
        if (kind != LimitKind.None)
        {
            return LimitLease.Refuse(kind, Describe(kind, agent.Name, limits, null, now, out var retry), retry);
        }

        if (_tools.Count == 0 || server is null || tool is null)
        {
            return new LimitLease(_counters, [Key(agent.Id, 0)]);
        }

        var keys = new List<long>(2) { Key(agent.Id, 0) };
        for (var i = 0; i < _tools.Count; i++)
        {
            var rule = _tools[i];
            if (!rule.Matches(server, tool))
            {
                continue;
            }

            kind = _counters.TryAcquire(Key(agent.Id, i + 1), rule.Limits, now);
            if (kind != LimitKind.None)
            {
                foreach (var key in keys)
                {
                    _counters.Undo(key, now);
                }

                return LimitLease.Refuse(kind, Describe(kind, agent.Name, rule.Limits, rule, now, out var retry), retry);
            }

            keys.Add(Key(agent.Id, i + 1));
        }

        return new LimitLease(_counters, [.. keys]);
    }

    /// <summary>The agent's usage now (under its own limits), for the console and the API.</summary>
    public AgentUsage Usage(long agentId) => _counters.Usage(Key(agentId, 0), _time.GetUtcNow());

    /// <summary>
    /// The counter of an agent's own limits (rule 0) or of a per-tool rule: one number, so the counter port stays keyed
    /// by <see langword="long"/>. Agent ids are database ids, far below 2^55.
    /// </summary>
    private static long Key(long agentId, int rule) => (agentId << 7) | (long)rule;

    private static string Describe(LimitKind kind, string agent, EffectiveLimits limits, ToolLimitRule? rule, DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = kind switch
        {
            LimitKind.RequestsPerMinute => Until((InMemoryUsageCounters.MinuteOf(now) + 1) * 60, now),
            LimitKind.DailyQuota => Until((InMemoryUsageCounters.DayOf(now) + 1) * 86_400, now),

            // No clock frees a concurrency slot: another call must finish. A second is a polite first back-off.
            _ => TimeSpan.FromSeconds(1),
        };
        var seconds = (long)retryAfter.TotalSeconds;
        var of = rule is null ? "tool calls" : $"calls of tools matching '{rule.Pattern}' (limit '{rule.Name}')";
        return kind switch
        {
            LimitKind.RequestsPerMinute => $"Rate limit reached: agent '{agent}' may start {limits.RequestsPerMinute} {of} per minute. Retry after {seconds} s.",
            LimitKind.DailyQuota => $"Daily quota reached: agent '{agent}' may start {limits.DailyQuota} {of} per UTC day. Retry after {seconds} s (00:00 UTC).",
            _ => $"Concurrency limit reached: agent '{agent}' may have {limits.MaxConcurrent} {of} in flight at once. Retry when one finishes.",
        };
    }

    /// <summary>Whole seconds from <paramref name="now"/> to a Unix time, rounded up and at least 1, as Retry-After wants.</summary>
    private static TimeSpan Until(long unixSeconds, DateTimeOffset now)
    {
        var ms = (unixSeconds * 1000) - now.ToUnixTimeMilliseconds();
        return TimeSpan.FromSeconds(Math.Max(1, (ms + 999) / 1000));
    }
}
