namespace Gateway.Core.Limits;

/// <summary>
/// Counts attempts per key (an address) in fixed windows: at most <c>limit</c> per <c>window</c>, a key's window
/// starting at its first attempt. Refused attempts are told how long until their window ends.
/// </summary>
/// <remarks>
/// No timer: a key whose window ended starts a new one at its next attempt, and ended windows are swept by the
/// attempts themselves, so an idle gateway does no work for it (ASP.NET Core's partitioned limiter wakes every 100 ms
/// for as long as the process lives, the largest share of an idle gateway's wake-ups). The table holds at most
/// <c>maxKeys</c> keys: when it is full of keys whose windows are still open, a new key is refused until the next
/// sweep can free room, so a flood from many addresses costs bounded memory.
/// </remarks>
public sealed class AttemptThrottle
{
    private readonly int _limit;
    private readonly TimeSpan _window;
    private readonly int _maxKeys;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public AttemptThrottle(int limit, TimeSpan window, int maxKeys, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        (_limit, _window, _maxKeys, _time) = (limit, window, maxKeys, time);
    }

    /// <summary>Gets how many keys are held (for tests of the bound).</summary>
    public int Keys
    {
        get
        {
            lock (_gate)
            {
                return _windows.Count;
            }
        }
    }

    /// <summary>Takes one attempt of <paramref name="key"/>: <see langword="null"/> when allowed, else the whole seconds (at least 1) until it may try again, as <c>Retry-After</c> gives them.</summary>
    public int? TakeSeconds(string key) => Take(key) is { } wait ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null;

    /// <summary>Takes one attempt of <paramref name="key"/>: <see langword="null"/> when allowed, else how long until it may try again.</summary>
    public TimeSpan? Take(string key)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (now >= _nextSweep)
            {
                Sweep(now);
            }

            if (_windows.TryGetValue(key, out var open) && now < open.Ends)
            {
                if (open.Count >= _limit)
                {
                    return open.Ends - now;
                }

                _windows[key] = open with { Count = open.Count + 1 };
                return null;
            }

            if (open is null && _windows.Count >= _maxKeys)
            {
                return _nextSweep - now;
            }

            _windows[key] = new Window(now + _window, 1);
            return null;
        }
    }

    /// <summary>
    /// Drops ended windows and sets the next sweep at the earliest end left, but not sooner than an eighth of a window
    /// from now: many keys with staggered ends would otherwise make every attempt walk the table.
    /// </summary>
    private void Sweep(DateTimeOffset now)
    {
        var earliest = now + _window;
        List<string>? ended = null;
        foreach (var (key, window) in _windows)
        {
            if (now >= window.Ends)
            {
                (ended ??= []).Add(key);
            }
            else if (window.Ends < earliest)
            {
                earliest = window.Ends;
            }
        }

        foreach (var key in ended ?? [])
        {
            _windows.Remove(key);
        }

        var soonest = now + (_window / 8);
        _nextSweep = earliest > soonest ? earliest : soonest;
    }

    private sealed record Window(DateTimeOffset Ends, int Count);
}
