using System.Collections.Concurrent;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.KeepAlive;

/// <summary>
/// The open idle event streams of this instance, and one timer for all of them: every half of
/// <c>Gateway:Mcp:StreamKeepAlive</c> each stream silent for that half gets a comment, so none stays silent for the whole
/// of it. One timer, not one per stream: a thousand sessions' standalone streams cost one wake per period.
/// </summary>
internal sealed class EventStreamBeats(TimeProvider time, IOptionsMonitor<GatewayOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<KeepAliveStream, byte> _streams = new();
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private TimeSpan _period;

    /// <summary>Adds a stream until the returned registration is disposed (the request's end).</summary>
    public Registration Add(KeepAliveStream stream)
    {
        _streams.TryAdd(stream, 0);
        EnsureTimer();
        return new Registration(this, stream);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void EnsureTimer()
    {
        var period = options.CurrentValue.Mcp.StreamKeepAlive / 2;
        lock (_gate)
        {
            if (_timer is null)
            {
                _timer = time.CreateTimer(static s => ((EventStreamBeats)s!).Beat(), this, period, period);
            }
            else if (_period != period)
            {
                // The setting changed (configuration reload): the next beats follow it.
                _timer.Change(period, period);
            }

            _period = period;
        }
    }

    private void Beat()
    {
        var half = options.CurrentValue.Mcp.StreamKeepAlive / 2;
        if (half <= TimeSpan.Zero)
        {
            return;
        }

        foreach (var stream in _streams.Keys)
        {
            _ = stream.BeatIfIdleAsync(half);
        }
    }

    /// <summary>A stream's place among the open ones.</summary>
    public readonly struct Registration(EventStreamBeats owner, KeepAliveStream stream) : IDisposable
    {
        public void Dispose() => owner._streams.TryRemove(stream, out _);
    }
}
