using Gateway.Core.Limits;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Core.Limits;

/// <summary>
/// The counters of two instances exchanging through a shared total, on a fake clock: each decides on the shared total
/// at its last exchange plus its own calls since; an exchange makes both see every call; nothing is counted twice or lost.
/// </summary>
public sealed class UsageCountersTests
{
    private static readonly CounterKey Key = CounterKey.Agent(7);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 14, 12, 0, 10, TimeSpan.Zero));

    // The table: what every instance added, per window (the store's upsert, count = count + change).
    private readonly Dictionary<UsageWindow, long> _table = [];

    private DateTimeOffset Now => _time.GetUtcNow();

    [Fact]
    public async Task NextCountAsync_CompletesAtTheFirstCountAfterIt_NotAtAPeekOrARefusal()
    {
        var counters = new UsageCounters();
        var limit = new EffectiveLimits(RequestsPerMinute: 1, 0, 0);
        var counted = counters.NextCountAsync();
        Assert.Equal(LimitKind.None, counters.TryAcquire(Key, limit, Now));
        await counted.WaitAsync(TestContext.Timeout);

        // Nothing counted: a peek and a refused call leave the next one pending.
        var next = counters.NextCountAsync();
        Assert.Equal(LimitKind.RequestsPerMinute, counters.Peek(Key, limit, Now));
        Assert.Equal(LimitKind.RequestsPerMinute, counters.TryAcquire(Key, limit, Now));
        Assert.False(next.IsCompleted);

        // A call that ends changes the calls in flight: counted.
        counters.Release(Key);
        await next.WaitAsync(TestContext.Timeout);
    }

    [Fact]
    public void AQuotaSpentOnTwoInstances_RefusesOnBoth_AfterOneExchangeEach()
    {
        var (a, b) = (new UsageCounters(), new UsageCounters());
        var quota = new EffectiveLimits(0, 0, DailyQuota: 5);
        Acquire(a, quota, 3);
        Acquire(b, quota, 2);

        // Between exchanges each sees only its own calls: this is the bounded overshoot.
        Assert.Equal(LimitKind.None, b.Peek(Key, quota, Now));

        Exchange(a);
        Exchange(b);
        Assert.Equal(5, b.Usage(Key, Now).Today);
        Assert.Equal(LimitKind.DailyQuota, b.TryAcquire(Key, quota, Now));

        // A learns of B's calls at its next exchange, not before.
        Assert.Equal(3, a.Usage(Key, Now).Today);
        Exchange(a);
        Assert.Equal(5, a.Usage(Key, Now).Today);
        Assert.Equal(LimitKind.DailyQuota, a.TryAcquire(Key, quota, Now));
        Assert.Equal(5, _table[new UsageWindow(Key, UsageWindow.Day, UsageWindow.StartOf(UsageWindow.Day, Now))]);
    }

    [Fact]
    public void CallsInFlight_AreReportedWhenTheyChange_AndTheOthersCountTowardsTheConcurrencyLimit()
    {
        var (a, b) = (new UsageCounters(), new UsageCounters());
        var one = new EffectiveLimits(0, MaxConcurrent: 1, 0);

        // Nothing in flight yet: nothing to report, nothing held.
        Assert.Empty(a.TakeInFlight().Changed);
        Assert.Equal(LimitKind.None, a.TryAcquire(Key, one, Now));

        // A reports its call once; the store gives B the sum of the other instances' (here A's).
        var (changed, holdsAny) = a.TakeInFlight();
        Assert.Equal([new InFlightCount(Key, 1)], changed);
        Assert.True(holdsAny);
        Assert.Empty(a.TakeInFlight().Changed);
        b.MergeInFlight(changed);
        Assert.Equal(1, b.Usage(Key, Now).InFlight);
        Assert.Equal(LimitKind.Concurrency, b.TryAcquire(Key, one, Now));

        // The call ends: A reports 0 (the store removes its row) and holds nothing; B, hearing of no call, lets one go.
        a.Release(Key);
        (changed, holdsAny) = a.TakeInFlight();
        Assert.Equal([new InFlightCount(Key, 0)], changed);
        Assert.False(holdsAny);
        b.MergeInFlight([]);
        Assert.Equal(LimitKind.None, b.TryAcquire(Key, one, Now));

        // A report that failed is made again at the next exchange.
        Assert.Equal(LimitKind.None, a.TryAcquire(Key, new EffectiveLimits(0, 0, 0), Now));
        var failed = a.TakeInFlight().Changed;
        a.RestoreInFlight(failed);
        Assert.Equal(failed, a.TakeInFlight().Changed);
    }

    [Fact]
    public void CallsCountedDuringAnExchange_AreNeitherLostNorCountedTwice()
    {
        var counters = new UsageCounters();
        var limits = new EffectiveLimits(0, 0, 0);
        Acquire(counters, limits, 2);
        var changes = counters.TakeChanges(Now);
        Assert.Equal([2L, 2L], changes.Select(c => c.Count));

        // A call while the batch is on its way to the database: it is still this instance's own.
        Acquire(counters, limits, 1);
        Assert.Equal(3, counters.Usage(Key, Now).Today);
        counters.Merge(Add(changes), Now);
        Assert.Equal(3, counters.Usage(Key, Now).Today);

        Exchange(counters);
        Assert.Equal(3, counters.Usage(Key, Now).Today);
        Assert.Equal(3, _table[new UsageWindow(Key, UsageWindow.Day, UsageWindow.StartOf(UsageWindow.Day, Now))]);
    }

    [Fact]
    public void AFailedExchange_KeepsItsChangesForTheNext_AndDecisionsDoNotMove()
    {
        var counters = new UsageCounters();
        var quota = new EffectiveLimits(0, 0, DailyQuota: 2);
        Acquire(counters, quota, 2);
        var failed = counters.TakeChanges(Now);
        Assert.Equal(LimitKind.DailyQuota, counters.Peek(Key, quota, Now));
        counters.Restore(failed, Now);
        Assert.Equal(LimitKind.DailyQuota, counters.Peek(Key, quota, Now));

        Exchange(counters);
        Assert.Equal(2, _table[new UsageWindow(Key, UsageWindow.Day, UsageWindow.StartOf(UsageWindow.Day, Now))]);
        Assert.Equal(2, counters.Usage(Key, Now).Today);
    }

    [Fact]
    public void AMinuteEndedBeforeItsExchange_IsStillAddedToTheDay_AndItsStaleTotalIsIgnored()
    {
        var counters = new UsageCounters();
        var rate = new EffectiveLimits(RequestsPerMinute: 2, 0, 0);
        Acquire(counters, rate, 2);
        var minute = UsageWindow.StartOf(UsageWindow.Minute, Now);
        Assert.Equal(LimitKind.RequestsPerMinute, counters.Peek(Key, rate, Now));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(LimitKind.None, counters.Peek(Key, rate, Now));
        var changes = counters.TakeChanges(Now);
        Assert.Contains(changes, c => c.Window == new UsageWindow(Key, UsageWindow.Minute, minute) && c.Count == 2);
        Assert.Contains(changes, c => c.Window.Span == UsageWindow.Day && c.Count == 2);

        // Another instance's total for the minute that ended does not count in the new one.
        counters.Merge([new UsageCount(new UsageWindow(Key, UsageWindow.Minute, minute), 40)], Now);
        Assert.Equal(0, counters.Usage(Key, Now).ThisMinute);
        Assert.Equal(2, counters.Usage(Key, Now).Today);
    }

    [Fact]
    public void AnUndoneAcquire_AfterItsExchange_IsTakenBackFromTheSharedTotal()
    {
        var counters = new UsageCounters();
        var limits = new EffectiveLimits(0, 0, 0);
        Acquire(counters, limits, 1);
        Exchange(counters);
        counters.Undo(Key, Now);
        Exchange(counters);
        Assert.Equal(0, _table[new UsageWindow(Key, UsageWindow.Day, UsageWindow.StartOf(UsageWindow.Day, Now))]);
        Assert.Equal(new AgentUsage(0, 0, 0), counters.Usage(Key, Now));
    }

    [Fact]
    public void ARestartedInstance_StartsFromTheStoredTotals_OfAgentsItHasNotSeen()
    {
        var before = new UsageCounters();
        var quota = new EffectiveLimits(0, 0, DailyQuota: 3);
        Acquire(before, quota, 3);
        Exchange(before);

        var restarted = new UsageCounters();
        Exchange(restarted);
        Assert.Equal(LimitKind.DailyQuota, restarted.TryAcquire(Key, quota, Now));
        Assert.Equal(3, restarted.Usage(Key, Now).Today);

        // The next UTC day starts from zero.
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(LimitKind.None, restarted.TryAcquire(Key, quota, Now));
    }

    private void Acquire(UsageCounters counters, EffectiveLimits limits, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            Assert.Equal(LimitKind.None, counters.TryAcquire(Key, limits, Now));
            counters.Release(Key);
        }
    }

    /// <summary>One exchange as the store makes it: add the changes, then read the current windows' totals.</summary>
    private void Exchange(UsageCounters counters) => counters.Merge(Add(counters.TakeChanges(Now)), Now);

    private List<UsageCount> Add(IEnumerable<UsageCount> changes)
    {
        foreach (var change in changes)
        {
            _table[change.Window] = _table.GetValueOrDefault(change.Window) + change.Count;
        }

        var (minute, day) = (UsageWindow.StartOf(UsageWindow.Minute, Now), UsageWindow.StartOf(UsageWindow.Day, Now));
        return [.. _table.Where(t => t.Key.Start == (t.Key.Span == UsageWindow.Minute ? minute : day)).Select(t => new UsageCount(t.Key, t.Value))];
    }
}
