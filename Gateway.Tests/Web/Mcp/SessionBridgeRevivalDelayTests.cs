using Gateway.Web.Mcp;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// The pause before a session's bridge is opened again after the upstream refused or closed it: an upstream that
/// refuses every new session makes the pauses double up to <c>MaxRestartDelay</c>, and a bridge that served long
/// enough starts the count again.
/// </summary>
public sealed class SessionBridgeRevivalDelayTests
{
    private static readonly TimeSpan Restart = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Fact]
    public void BridgesThatKeepEndingSoon_DoubleThePause_UpToTheMaximum()
    {
        var pauses = new List<TimeSpan>();
        TimeSpan? last = null;
        for (var i = 0; i < 8; i++)
        {
            last = SessionBridges.RevivalDelay(last, lived: TimeSpan.FromMilliseconds(50), Restart, Max);
            pauses.Add(last.Value);
        }

        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], pauses.Select(p => p.TotalSeconds));
    }

    [Fact]
    public void ABridgeThatServedForTheMaximumOrLonger_StartsAgainFromTheRestartDelay()
    {
        Assert.Equal(Restart, SessionBridges.RevivalDelay(TimeSpan.FromSeconds(16), lived: Max, Restart, Max));
        Assert.Equal(TimeSpan.FromSeconds(30), SessionBridges.RevivalDelay(TimeSpan.FromSeconds(16), lived: Max - TimeSpan.FromTicks(1), Restart, Max));
        Assert.Equal(Restart, SessionBridges.RevivalDelay(null, lived: TimeSpan.Zero, Restart, Max));
    }
}
