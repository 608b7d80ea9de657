using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Limits;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Core.Limits;

/// <summary>The limiter over the in-memory counters, on a fake clock: windows and days roll over exactly at UTC boundaries.</summary>
public sealed class CallLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 14, 12, 0, 10, TimeSpan.Zero));

    private CallLimiter Limiter(LimitOptions? defaults = null) => new(new UsageCounters(), defaults ?? new LimitOptions(), _time);

    private static AgentIdentity Agent(AgentLimits limits, long id = 1) => new(id, "bot", GrantSet.Parse(["s/*"], [])) { Limits = limits };

    [Fact]
    public void RequestsPerMinute_RefusesTheNextCall_UntilTheNextUtcMinute_AndRefusalsDoNotCount()
    {
        var limiter = Limiter();
        var agent = Agent(new AgentLimits(RequestsPerMinute: 3));
        for (var i = 0; i < 3; i++)
        {
            using var lease = limiter.Acquire(agent, _time.GetUtcNow());
            Assert.False(lease.IsRefused);
        }

        var refused = limiter.Acquire(agent, _time.GetUtcNow());
        Assert.Equal(LimitKind.RequestsPerMinute, refused.Refused);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.RetryAfter);
        Assert.Contains("3 tool calls per minute", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Retry after 50 s", refused.Message, StringComparison.Ordinal);
        Assert.Equal(new AgentUsage(3, 0, 3), limiter.Usage(1));

        _time.Advance(TimeSpan.FromSeconds(49));
        Assert.True(limiter.Acquire(agent, _time.GetUtcNow()).IsRefused);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(limiter.Acquire(agent, _time.GetUtcNow()).IsRefused);
        Assert.Equal(new AgentUsage(1, 1, 4), limiter.Usage(1));
    }

    [Fact]
    public void Concurrency_CountsCallsInFlight_AndALeaseIsGivenBackOnce()
    {
        var limiter = Limiter();
        var agent = Agent(new AgentLimits(MaxConcurrent: 2));
        var first = limiter.Acquire(agent, _time.GetUtcNow());
        var second = limiter.Acquire(agent, _time.GetUtcNow());
        var third = limiter.Acquire(agent, _time.GetUtcNow());
        Assert.Equal(LimitKind.Concurrency, third.Refused);
        Assert.Contains("2 tool calls in flight", third.Message, StringComparison.Ordinal);
        third.Dispose();
        Assert.Equal(2, limiter.Usage(1).InFlight);

        first.Dispose();
        first.Dispose();
        Assert.Equal(1, limiter.Usage(1).InFlight);
        using var fourth = limiter.Acquire(agent, _time.GetUtcNow());
        Assert.False(fourth.IsRefused);
        Assert.True(limiter.Acquire(agent, _time.GetUtcNow()).IsRefused);
        second.Dispose();
    }

    [Fact]
    public void DailyQuota_RollsOverAtUtcMidnight()
    {
        _time.SetUtcNow(new DateTimeOffset(2026, 3, 14, 23, 59, 30, TimeSpan.Zero));
        var limiter = Limiter();
        var agent = Agent(new AgentLimits(DailyQuota: 2));
        limiter.Acquire(agent, _time.GetUtcNow()).Dispose();
        limiter.Acquire(agent, _time.GetUtcNow()).Dispose();

        var refused = limiter.Acquire(agent, _time.GetUtcNow());
        Assert.Equal(LimitKind.DailyQuota, refused.Refused);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RetryAfter);
        Assert.Contains("2 tool calls per UTC day", refused.Message, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(29.5));
        Assert.True(limiter.Acquire(agent, _time.GetUtcNow()).IsRefused);
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.False(limiter.Acquire(agent, _time.GetUtcNow()).IsRefused);
        Assert.Equal(1, limiter.Usage(1).Today);
    }

    [Fact]
    public void UnsetValuesTakeTheDefaults_ZeroIsUnlimited_AndAgentsAreCountedApart()
    {
        var limiter = Limiter(new LimitOptions { RequestsPerMinute = 2, MaxConcurrentCalls = 0, DailyQuota = 0 });
        var inherits = Agent(AgentLimits.Inherit, id: 1);
        var unlimited = Agent(new AgentLimits(RequestsPerMinute: 0), id: 2);
        Assert.False(limiter.Acquire(inherits, _time.GetUtcNow()).IsRefused);
        Assert.False(limiter.Acquire(inherits, _time.GetUtcNow()).IsRefused);
        Assert.Equal(LimitKind.RequestsPerMinute, limiter.Acquire(inherits, _time.GetUtcNow()).Refused);

        // 100 calls in flight at once and in one minute: neither the default concurrency (0) nor its own rate (0) bounds it.
        var leases = Enumerable.Range(0, 100).Select(_ => limiter.Acquire(unlimited, _time.GetUtcNow())).ToList();
        Assert.All(leases, l => Assert.False(l.IsRefused));
        Assert.Equal(new AgentUsage(100, 100, 100), limiter.Usage(2));
        Assert.Equal(new AgentUsage(2, 2, 2), limiter.Usage(1));
    }

    [Fact]
    public void RacingCalls_NeverGetMoreSlotsThanTheLimit()
    {
        var limiter = Limiter();
        var agent = Agent(new AgentLimits(MaxConcurrent: 5));
        var granted = 0;
        Parallel.For(0, 1000, _ =>
        {
            var lease = limiter.Acquire(agent, _time.GetUtcNow());
            if (!lease.IsRefused)
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(5, granted);
    }

    [Fact]
    public void ACallWaitingForApproval_GivesItsSlotBack_AndTakesItAgainWhenApproved()
    {
        var limiter = Limiter();
        var agent = Agent(new AgentLimits(MaxConcurrent: 1));
        var held = limiter.Acquire(agent, _time.GetUtcNow());
        held.Park();
        Assert.Equal(0, limiter.Usage(1).InFlight);
        var other = limiter.Acquire(agent, _time.GetUtcNow());
        Assert.False(other.IsRefused);

        // Approved while the other call runs: it goes ahead (over the limit for a moment), and each slot is given back once.
        held.Resume();
        Assert.Equal(2, limiter.Usage(1).InFlight);
        held.Dispose();
        held.Dispose();
        other.Dispose();
        Assert.Equal(0, limiter.Usage(1).InFlight);
    }

    [Theory]
    [InlineData(-1, null, null, "limits.requestsPerMinute")]
    [InlineData(null, AgentLimitsValidator.Max + 1, null, "limits.maxConcurrent")]
    [InlineData(null, null, -5, "limits.dailyQuota")]
    public void Validator_NamesTheField(int? rpm, int? concurrent, int? daily, string field)
    {
        var result = new AgentLimitsValidator().Validate(new AgentLimits(rpm, concurrent, daily));
        var error = Assert.Single(result.Errors);
        Assert.Equal(field, error.PropertyName);
        Assert.Contains("0 (unlimited)", error.ErrorMessage, StringComparison.Ordinal);
        Assert.True(new AgentLimitsValidator().Validate(new AgentLimits(0, 1, AgentLimitsValidator.Max)).IsValid);
    }

    [Fact]
    public void ToolRules_LimitEachAgentOnTheMatchingToolsOnly_AndARuleRefusalCountsNowhere()
    {
        var options = new LimitOptions();
        options.Tools["expensive"] = new ToolLimitOptions { Match = "s/render_*", MaxConcurrent = 1, RequestsPerMinute = 2 };
        var limiter = Limiter(options);
        var agent = Agent(AgentLimits.Inherit);
        var other = Agent(AgentLimits.Inherit, id: 2);

        using var first = limiter.Acquire(agent, "s", "render_pdf", _time.GetUtcNow());
        Assert.False(first.IsRefused);
        var second = limiter.Acquire(agent, "s", "render_png", _time.GetUtcNow());
        Assert.Equal(LimitKind.Concurrency, second.Refused);
        Assert.Equal("Concurrency limit reached: agent 'bot' may have 1 calls of tools matching 's/render_*' (limit 'expensive') in flight at once. Retry when one finishes.", second.Message);

        // The refusal took nothing from the agent's own counters; other tools and other agents are not limited by the rule.
        Assert.Equal(new AgentUsage(1, 1, 1), limiter.Usage(1));
        using var unrelated = limiter.Acquire(agent, "s", "list", _time.GetUtcNow());
        Assert.False(unrelated.IsRefused);
        using var someoneElse = limiter.Acquire(other, "s", "render_pdf", _time.GetUtcNow());
        Assert.False(someoneElse.IsRefused);

        first.Dispose();
        using (var again = limiter.Acquire(agent, "s", "render_pdf", _time.GetUtcNow()))
        {
            Assert.False(again.IsRefused);
        }

        var rate = limiter.Acquire(agent, "s", "render_pdf", _time.GetUtcNow());
        Assert.Equal(LimitKind.RequestsPerMinute, rate.Refused);
        Assert.Contains("2 calls of tools matching 's/render_*' (limit 'expensive') per minute. Retry after 50 s.", rate.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-slash", 1, "must be 'server/tool'")]
    [InlineData("s/", 1, "must be 'server/tool'")]
    [InlineData("s/t", -1, "must be 0 (unlimited) or a whole number")]
    public void ToolRules_AreValidated_WithEveryProblemNamed(string match, int maxConcurrent, string expected)
    {
        var options = new LimitOptions();
        options.Tools["bad"] = new ToolLimitOptions { Match = match, MaxConcurrent = maxConcurrent };
        var ex = Assert.Throws<InvalidOperationException>(() => Limiter(options));
        Assert.Contains("Gateway:Limits:Tools:bad", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
