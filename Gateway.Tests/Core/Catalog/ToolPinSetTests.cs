using Gateway.Core.Catalog;

namespace Gateway.Tests.Core.Catalog;

/// <summary>Which pins of tools a server no longer lists are forgotten: only those beyond the bound, the oldest first.</summary>
public sealed class ToolPinSetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static readonly ToolPinSet Pins = new(
        [
            Pin("s", "listed", T0),
            Pin("s", "old", T0),
            Pin("s", "b", T0.AddMinutes(1)),
            Pin("s", "a", T0.AddMinutes(1)),
            Pin("s", "newest", T0.AddMinutes(2)),
            Pin("other", "gone", T0),
        ],
        PinningMode.TrustOnFirstUse);

    [Theory]
    [InlineData(4, "")]
    [InlineData(5, "")]
    [InlineData(3, "old")]
    [InlineData(1, "a,b,old")]
    [InlineData(0, "newest,a,b,old")]
    public void OnlyPinsBeyondTheBound_AreForgotten_TheMostRecentlyPinnedKept_ThenByName(int keep, string forgotten)
    {
        var beyond = Pins.BeyondRetired("s", new HashSet<string>(["listed"]), keep);

        Assert.Equal(forgotten.Split(',', StringSplitOptions.RemoveEmptyEntries), beyond.Select(p => p.Tool));
        Assert.All(beyond, p => Assert.Equal("s", p.Server));
    }

    [Fact]
    public void AToolStillListed_IsNeverForgotten()
    {
        Assert.Empty(Pins.BeyondRetired("s", new HashSet<string>(["listed", "old", "a", "b", "newest"]), 0));
    }

    private static ToolPin Pin(string server, string tool, DateTimeOffset at) => new(server, tool, new string('0', 64), at, "test");
}
