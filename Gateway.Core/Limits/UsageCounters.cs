using System.Collections.Concurrent;

namespace Gateway.Core.Limits;

/// <summary>
/// The counters behind the limits, decided in this process: a fixed window per UTC minute, a count per UTC day, and
/// calls in flight. Each window's count is the total every instance had stored at the last exchange plus what this
/// instance counted since, so a call costs a lock, never a database round trip.
/// </summary>
/// <remarks>
/// <para>
/// Fixed windows aligned to the clock (not sliding) so that the retry time an agent is told is exact and the same on
/// every instance; the price is that a burst straddling a minute boundary can reach twice the per-minute limit over
/// a few seconds, which the concurrency limit bounds. One small lock per counter: agents do not contend with each other.
/// </para>
/// <para>
/// The exchange (<see cref="TakeChanges"/>, then the store, then <see cref="Merge"/> or, when the store failed,
/// <see cref="Restore"/>) runs on one background loop. An instance sees another's call at its first exchange after
/// that instance's next one, up to two exchange intervals later: with N instances a window can overshoot by what the
/// other N−1 instances admit in two intervals (and never by more than N−1 times the limit).
/// </para>
/// <para>
/// Calls in flight are shared the same way (<see cref="TakeInFlight"/>, <see cref="MergeInFlight"/>): each instance
/// reports its own per counter when they change, and decides on its own plus the others' as last read, so the
/// concurrency limit holds across instances up to what the others started within two intervals. An instance that
/// was killed stops counting once it has not been seen alive for a few intervals.
/// </para>
/// <para>Counters live as long as the process: one per agent and rule that called, a few dozen bytes each.</para>
/// </remarks>
public sealed class UsageCounters : IUsageCounters
{
    private readonly ConcurrentDictionary<CounterKey, Counter> _counters = new();

    // Changes of windows that ended before an exchange took them: still owed to the shared totals (a day's count is
    // read by every instance until midnight).
    private readonly ConcurrentQueue<UsageCount> _ended = new();

    // What NextCountAsync hands out: completed by the first count after it was armed. A call pays one volatile read
    // while it is already completed, so the background exchange can sleep while nothing is counted instead of polling.
    private TaskCompletionSource _counted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc/>
    public LimitKind TryAcquire(CounterKey key, EffectiveLimits limits, DateTimeOffset now)
    {
        var counter = _counters.GetOrAdd(key, static _ => new Counter());
        LimitKind refused;
        lock (counter)
        {
            Roll(key, counter, now);
            refused = counter.Check(limits, includeInFlight: true);
            if (refused == LimitKind.None)
            {
                counter.InFlight++;
                counter.Minute.Own++;
                counter.Day.Own++;
            }
        }

        if (refused == LimitKind.None)
        {
            Counted();
        }

        return refused;
    }

    /// <inheritdoc/>
    public LimitKind Peek(CounterKey key, EffectiveLimits limits, DateTimeOffset now)
    {
        if (!_counters.TryGetValue(key, out var counter))
        {
            return LimitKind.None;
        }

        lock (counter)
        {
            Roll(key, counter, now);
            return counter.Check(limits, includeInFlight: false);
        }
    }

    /// <inheritdoc/>
    public void Release(CounterKey key)
    {
        if (_counters.TryGetValue(key, out var counter))
        {
            lock (counter)
            {
                counter.InFlight = Math.Max(0, counter.InFlight - 1);
            }

            Counted();
        }
    }

    /// <inheritdoc/>
    public void Reenter(CounterKey key)
    {
        var counter = _counters.GetOrAdd(key, static _ => new Counter());
        lock (counter)
        {
            counter.InFlight++;
        }

        Counted();
    }

    /// <inheritdoc/>
    public void Undo(CounterKey key, DateTimeOffset now)
    {
        if (_counters.TryGetValue(key, out var counter))
        {
            lock (counter)
            {
                Roll(key, counter, now);
                counter.InFlight = Math.Max(0, counter.InFlight - 1);

                // May go below zero when an exchange took the acquire in between: then the store is told -1.
                counter.Minute.Own--;
                counter.Day.Own--;
            }

            Counted();
        }
    }

    /// <summary>
    /// Completes at the first count here (a call started, ended, re-entered or undone) after this call. Armed
    /// before the exchange looks at the counters, so nothing counted meanwhile goes unseen.
    /// </summary>
    public Task NextCountAsync()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _counted, next);
        return next.Task;
    }

    /// <inheritdoc/>
    public AgentUsage Usage(CounterKey key, DateTimeOffset now)
    {
        if (!_counters.TryGetValue(key, out var counter))
        {
            return default;
        }

        lock (counter)
        {
            Roll(key, counter, now);
            return new AgentUsage(Clamp(counter.Minute.Total), Clamp(counter.InFlight + counter.OthersInFlight), Clamp(counter.Day.Total));
        }
    }

    /// <summary>
    /// Takes what this instance counted since the last exchange, for the store. The counts stay in force locally
    /// (moved into the shared part), so decisions do not change while the exchange is under way.
    /// </summary>
    public IReadOnlyList<UsageCount> TakeChanges(DateTimeOffset now)
    {
        var changes = new List<UsageCount>();
        while (_ended.TryDequeue(out var ended))
        {
            changes.Add(ended);
        }

        foreach (var (key, counter) in _counters)
        {
            lock (counter)
            {
                Roll(key, counter, now);
                Take(key, UsageWindow.Minute, ref counter.Minute, changes);
                Take(key, UsageWindow.Day, ref counter.Day, changes);
            }
        }

        // Several ended windows of one counter (one per failed exchange) are one row each: add them up.
        return changes.Count < 2 ? changes : [.. changes.GroupBy(c => c.Window).Select(g => new UsageCount(g.Key, g.Sum(c => c.Count))).Where(c => c.Count != 0)];
    }

    /// <summary>
    /// Takes the totals the store returned after adding <see cref="TakeChanges"/>: they include this instance's
    /// changes, and every other instance's up to that moment. A counter this instance has not seen yet (another
    /// instance's agent, or this one before a restart) starts from its stored total.
    /// </summary>
    public void Merge(IEnumerable<UsageCount> totals, DateTimeOffset now)
    {
        foreach (var total in totals)
        {
            var counter = _counters.GetOrAdd(total.Window.Key, static _ => new Counter());
            lock (counter)
            {
                Roll(total.Window.Key, counter, now);
                if (total.Window.Span == UsageWindow.Minute && counter.Minute.Start == total.Window.Start)
                {
                    counter.Minute.Shared = total.Count;
                }
                else if (total.Window.Span == UsageWindow.Day && counter.Day.Start == total.Window.Start)
                {
                    counter.Day.Shared = total.Count;
                }
            }
        }
    }

    /// <summary>Gives back changes whose exchange failed: they are offered again at the next one, and keep counting here meanwhile.</summary>
    public void Restore(IEnumerable<UsageCount> changes, DateTimeOffset now)
    {
        foreach (var change in changes)
        {
            if (!_counters.TryGetValue(change.Window.Key, out var counter))
            {
                _ended.Enqueue(change);
                continue;
            }

            lock (counter)
            {
                Roll(change.Window.Key, counter, now);
                ref var window = ref change.Window.Span == UsageWindow.Minute ? ref counter.Minute : ref counter.Day;
                if (window.Start == change.Window.Start)
                {
                    window.Shared -= change.Count;
                    window.Own += change.Count;
                }
                else
                {
                    _ended.Enqueue(change);
                }
            }
        }
    }

    /// <summary>
    /// Takes this instance's calls in flight that changed since they were last reported, for the store, and whether it
    /// has any stored (then it must say it is alive).
    /// </summary>
    public (IReadOnlyList<InFlightCount> Changed, bool HoldsAny) TakeInFlight()
    {
        var changed = new List<InFlightCount>();
        var holdsAny = false;
        foreach (var (key, counter) in _counters)
        {
            lock (counter)
            {
                if (counter.InFlight != counter.Reported)
                {
                    changed.Add(new InFlightCount(key, counter.InFlight));
                    counter.Reported = counter.InFlight;
                }

                holdsAny |= counter.Reported > 0;
            }
        }

        return (changed, holdsAny);
    }

    /// <summary>Whether no counter's calls in flight changed since they were last reported, and none are held here.</summary>
    public bool InFlightUnchanged()
    {
        foreach (var (_, counter) in _counters)
        {
            lock (counter)
            {
                if (counter.InFlight != counter.Reported || counter.Reported > 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Marks counts whose report failed to be reported again at the next exchange.</summary>
    public void RestoreInFlight(IEnumerable<InFlightCount> changed)
    {
        foreach (var change in changed)
        {
            if (_counters.TryGetValue(change.Key, out var counter))
            {
                lock (counter)
                {
                    counter.Reported = -1;
                }
            }
        }
    }

    /// <summary>Takes the other live instances' calls in flight as read from the store: a counter not among them has none elsewhere.</summary>
    public void MergeInFlight(IReadOnlyList<InFlightCount> others)
    {
        var byKey = others.Count == 0 ? null : others.ToDictionary(o => o.Key, o => o.Count);
        foreach (var (key, counter) in _counters)
        {
            lock (counter)
            {
                counter.OthersInFlight = byKey is not null && byKey.Remove(key, out var count) ? count : 0;
            }
        }

        // Counters this instance has not used yet (another instance's agent): known before their first call here.
        foreach (var (key, count) in byKey ?? [])
        {
            var counter = _counters.GetOrAdd(key, static _ => new Counter());
            lock (counter)
            {
                counter.OthersInFlight = count;
            }
        }
    }

    private void Counted()
    {
        // A full fence between the count (above, under the counter's lock) and reading which signal is armed: without
        // it the read could see the signal the exchange replaced while the exchange missed the count.
        Interlocked.MemoryBarrier();
        var counted = Volatile.Read(ref _counted);
        if (!counted.Task.IsCompleted)
        {
            counted.TrySetResult();
        }
    }

    private static int Clamp(long count) => (int)Math.Clamp(count, 0, int.MaxValue);

    private static void Take(CounterKey key, int span, ref Window window, List<UsageCount> changes)
    {
        if (window.Own != 0)
        {
            changes.Add(new UsageCount(new UsageWindow(key, span, window.Start), window.Own));
            window.Shared += window.Own;
            window.Own = 0;
        }
    }

    /// <summary>Starts a new window or day when the clock has moved past the current one; what was not yet exchanged of the old one is kept for the store.</summary>
    private void Roll(CounterKey key, Counter counter, DateTimeOffset now)
    {
        Roll(key, UsageWindow.Minute, ref counter.Minute, now);
        Roll(key, UsageWindow.Day, ref counter.Day, now);
    }

    private void Roll(CounterKey key, int span, ref Window window, DateTimeOffset now)
    {
        var start = UsageWindow.StartOf(span, now);
        if (start == window.Start)
        {
            return;
        }

        if (window.Own != 0 && window.Start != long.MinValue)
        {
            _ended.Enqueue(new UsageCount(new UsageWindow(key, span, window.Start), window.Own));
        }

        window = new Window { Start = start };
    }

    /// <summary>One window's count: <see cref="Shared"/> as of the last exchange (this instance's part included) plus <see cref="Own"/>, counted here since.</summary>
    private struct Window
    {
        public long Start = long.MinValue;
        public long Shared;
        public long Own;

        public Window()
        {
        }

        public readonly long Total => Shared + Own;
    }

    private sealed class Counter
    {
        public Window Minute = new();
        public Window Day = new();

        public int InFlight { get; set; }

        /// <summary>Gets or sets this instance's calls in flight as last reported to the store (-1: to be reported again).</summary>
        public int Reported { get; set; }

        /// <summary>Gets or sets the other live instances' calls in flight, as last read.</summary>
        public long OthersInFlight { get; set; }

        public LimitKind Check(EffectiveLimits limits, bool includeInFlight)
        {
            if (includeInFlight && limits.MaxConcurrent > 0 && InFlight + OthersInFlight >= limits.MaxConcurrent)
            {
                return LimitKind.Concurrency;
            }

            if (limits.RequestsPerMinute > 0 && Minute.Total >= limits.RequestsPerMinute)
            {
                return LimitKind.RequestsPerMinute;
            }

            return limits.DailyQuota > 0 && Day.Total >= limits.DailyQuota ? LimitKind.DailyQuota : LimitKind.None;
        }
    }
}
