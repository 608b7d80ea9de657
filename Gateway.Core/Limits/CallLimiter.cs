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
    private readonly IReadOnlyList<ToolLimitRule> _configured;
    private volatile IReadOnlyList<ToolLimitRule> _tools;

    /// <exception cref="InvalidOperationException">A per-tool rule is invalid (the message lists every problem).</exception>
    public CallLimiter(IUsageCounters counters, LimitOptions defaults, TimeProvider time)
    {
        var errors = new List<string>();
        _configured = _tools = ToolLimitRule.From(defaults, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        (_counters, _defaults, _time) = (counters, defaults, time);
    }

    /// <summary>Gets the defaults that apply where an agent has no value of its own.</summary>
    public LimitOptions Defaults => _defaults;

    /// <summary>Gets the per-tool rules in force: configuration's, then the stored ones, by name.</summary>
    public IReadOnlyList<ToolLimitRule> ToolRules => _tools;

    /// <summary>
    /// Puts the stored per-tool rules in force from the next call on, beside configuration's (a stored rule with the
    /// name of a configured one is ignored: configuration manages that name). Counts follow rules by name.
    /// </summary>
    public void UseStoredRules(IEnumerable<ToolLimitRule> stored)
    {
        var names = _configured.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        _tools = [.. _configured, .. stored.Where(r => !names.Contains(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>Counts a call that starts at <paramref name="now"/> under the agent's own limits only.</summary>
    public LimitLease Acquire(AgentIdentity agent, DateTimeOffset now) => Acquire(agent, null, null, now);

    /// <summary>
    /// Counts a call of <paramref name="tool"/> on <paramref name="server"/> that starts at <paramref name="now"/>;
    /// dispose the lease when the call ends (a refused lease holds nothing, and counts nowhere).
    /// </summary>
    public LimitLease Acquire(AgentIdentity agent, string? server, string? tool, DateTimeOffset now)
    {
        var limits = agent.Limits.Resolve(_defaults);
        var own = CounterKey.Agent(agent.Id);
        var kind = _counters.TryAcquire(own, limits, now);
        if (kind != LimitKind.None)
        {
            return LimitLease.Refuse(kind, Describe(kind, agent.Name, limits, null, now, out var retry), retry);
        }

        var tools = _tools;
        if (tools.Count == 0 || server is null || tool is null)
        {
            return new LimitLease(_counters, [own]);
        }

        var keys = new List<CounterKey>(2) { own };
        foreach (var rule in tools)
        {
            if (!rule.Matches(server, tool))
            {
                continue;
            }

            var key = new CounterKey(agent.Id, rule.Name);
            kind = _counters.TryAcquire(key, rule.Limits, now);
            if (kind != LimitKind.None)
            {
                foreach (var taken in keys)
                {
                    _counters.Undo(taken, now);
                }

                return LimitLease.Refuse(kind, Describe(kind, agent.Name, rule.Limits, rule, now, out var retry), retry);
            }

            keys.Add(key);
        }

        return new LimitLease(_counters, [.. keys]);
    }

    /// <summary>
    /// The refusal a call of <paramref name="tool"/> on <paramref name="server"/> would get now from a window limit
    /// (per minute or per day; the agent's own, then each matching rule's), or <see langword="null"/>; nothing is counted.
    /// Concurrency is not looked at: it is no window, and whether a slot is free is only known when the call starts.
    /// </summary>
    public LimitLease? Peek(AgentIdentity agent, string? server, string? tool, DateTimeOffset now)
    {
        var limits = agent.Limits.Resolve(_defaults);
        var kind = _counters.Peek(CounterKey.Agent(agent.Id), limits, now);
        if (kind != LimitKind.None)
        {
            return LimitLease.Refuse(kind, Describe(kind, agent.Name, limits, null, now, out var retry), retry);
        }

        if (server is null || tool is null)
        {
            return null;
        }

        foreach (var rule in _tools)
        {
            if (rule.Matches(server, tool) && _counters.Peek(new CounterKey(agent.Id, rule.Name), rule.Limits, now) is var refused and not LimitKind.None)
            {
                return LimitLease.Refuse(refused, Describe(refused, agent.Name, rule.Limits, rule, now, out var retry), retry);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether any per-tool rule's window (per minute, per day) is used up for the agent now: only then is it worth
    /// finding out which tool a request calls. A few lookups, nothing counted.
    /// </summary>
    public bool AnyToolWindowUsedUp(AgentIdentity agent, DateTimeOffset now)
    {
        foreach (var rule in _tools)
        {
            if ((rule.Limits.RequestsPerMinute > 0 || rule.Limits.DailyQuota > 0)
                && _counters.Peek(new CounterKey(agent.Id, rule.Name), rule.Limits, now) != LimitKind.None)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The agent's usage now (under its own limits), for the console and the API.</summary>
    public AgentUsage Usage(long agentId) => _counters.Usage(CounterKey.Agent(agentId), _time.GetUtcNow());

    private static string Describe(LimitKind kind, string agent, EffectiveLimits limits, ToolLimitRule? rule, DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = kind switch
        {
            LimitKind.RequestsPerMinute => Until(UsageWindow.StartOf(UsageWindow.Minute, now) + UsageWindow.Minute, now),
            LimitKind.DailyQuota => Until(UsageWindow.StartOf(UsageWindow.Day, now) + UsageWindow.Day, now),

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
