using System.Collections.Frozen;
using Gateway.Web.Console;

namespace Gateway.Tests.Web.Console;

/// <summary>An invalid change's errors that no field of its form shows are told in the notice, never dropped.</summary>
public sealed class ConsoleNoticeTests
{
    private static readonly FrozenSet<string> Shown = FrozenSet.Create(StringComparer.Ordinal, "name", "grants");

    [Fact]
    public void ErrorsOfFieldsTheFormShows_NeedNoNotice()
    {
        var errors = new Dictionary<string, string[]> { ["name"] = ["Bad name."], ["grants"] = ["Bad grant."] };

        Assert.Null(ConsoleNotice.Unshown(errors, Shown));
    }

    [Fact]
    public void ErrorsOfOtherFields_AreTheNotice_InTheirOrder()
    {
        var errors = new Dictionary<string, string[]>
        {
            ["name"] = ["Bad name."],
            ["owner"] = ["No console user named 'ghost'.", "Too long."],
            ["connectTimeout"] = ["Out of range."],
        };

        var notice = ConsoleNotice.Unshown(errors, Shown);

        Assert.NotNull(notice);
        Assert.False(notice.Ok);
        Assert.Equal("No console user named 'ghost'. Too long. Out of range.", notice.Message);
    }
}
