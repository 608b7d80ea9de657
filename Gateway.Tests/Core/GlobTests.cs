using Gateway.Core.Grants;

namespace Gateway.Tests.Core;

public sealed class GlobTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("*", "", true)]
    [InlineData("list_*", "list_issues", true)]
    [InlineData("list_*", "list_", true)]
    [InlineData("list_*", "get_issue", false)]
    [InlineData("*_issue", "get_issue", true)]
    [InlineData("*_issue", "get_issues", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("echo", "echo", true)]
    [InlineData("echo", "Echo", false)]
    [InlineData("echo", "echo2", false)]
    public void IsMatch_Pattern_MatchesAsGlob(string pattern, string text, bool expected) =>
        Assert.Equal(expected, new Glob(pattern).IsMatch(text));
}
