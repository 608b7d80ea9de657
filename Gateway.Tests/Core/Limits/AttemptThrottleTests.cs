using Gateway.Core.Limits;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Core.Limits;

/// <summary>
/// The timer-free fixed window behind the sign-in and client registration limits, on a fake clock: the limit per key,
/// the wait a refused attempt is told, a new window once it ended, and the bound on the keys it holds.
/// </summary>
public sealed class AttemptThrottleTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AKey_GetsItsLimit_ThenIsToldWhenItsWindowEnds_ThenGetsANewWindow()
    {
        var throttle = new AttemptThrottle(3, Minute, 100, _time);
        Assert.All(Enumerable.Range(0, 3), _ => Assert.Null(throttle.Take("10.0.0.1")));

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(40), throttle.Take("10.0.0.1"));

        // Another key has its own window.
        Assert.Null(throttle.Take("10.0.0.2"));

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.Null(throttle.Take("10.0.0.1"));
    }

    [Fact]
    public void AtMostMaxKeys_AreHeld_ANewKeyWaitsUntilAnOldWindowEnds()
    {
        var throttle = new AttemptThrottle(5, Minute, 3, _time);
        Assert.Null(throttle.Take("a"));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(throttle.Take("b"));
        Assert.Null(throttle.Take("c"));

        // At the limit: a fourth key is refused with a wait, the keys held go on counting.
        var wait = throttle.Take("d");
        Assert.NotNull(wait);
        Assert.InRange(wait.Value, TimeSpan.FromTicks(1), Minute);
        Assert.Null(throttle.Take("a"));
        Assert.Equal(3, throttle.Keys);

        // Once "a"'s window ended the sweep frees its place.
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Null(throttle.Take("d"));
        Assert.Equal(3, throttle.Keys);
    }

    [Fact]
    public void EndedWindows_AreSweptByLaterAttempts_SoTheTableDoesNotGrowWithKeysSeenLongAgo()
    {
        var throttle = new AttemptThrottle(1, Minute, 1000, _time);
        for (var i = 0; i < 500; i++)
        {
            Assert.Null(throttle.Take("old-" + i));
        }

        _time.Advance(Minute * 2);
        Assert.Null(throttle.Take("new"));
        Assert.Equal(1, throttle.Keys);
    }
}
