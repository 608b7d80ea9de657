using Gateway.Web.Mcp.Relay;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>Sessions ended on another instance are refused here until they expire, and the memory of them is bounded.</summary>
public sealed class EndedSessionsTests
{
    [Fact]
    public void AnEndedSession_IsRefusedUntilItsExpiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var ended = new EndedSessions(time);
        ended.Add("s1", time.GetUtcNow().AddMinutes(1));

        Assert.True(ended.IsEnded("s1"));
        Assert.False(ended.IsEnded("s2"));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(ended.IsEnded("s1"));
    }

    [Fact]
    public void AtTheBound_TheOldestExpiryIsForgottenFirst_AndTheNewestKept()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var ended = new EndedSessions(time);
        for (var i = 0; i < EndedSessions.MaxRemembered; i++)
        {
            ended.Add("s" + i, time.GetUtcNow().AddHours(1).AddSeconds(i));
        }

        Assert.Equal(EndedSessions.MaxRemembered, ended.Count);
        ended.Add("newest", time.GetUtcNow().AddHours(2));

        Assert.Equal(EndedSessions.MaxRemembered, ended.Count);
        Assert.False(ended.IsEnded("s0"));
        Assert.True(ended.IsEnded("s1"));
        Assert.True(ended.IsEnded("newest"));
    }
}
