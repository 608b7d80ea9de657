using Gateway.Core.Grants;

using Gateway.Core.Policy;

namespace Gateway.Tests.Core;

public sealed class ToolGrantTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("github/list_*", "github", "list_*")]
    [InlineData("files/*", "files", "*")]
    [InlineData("*/*", "*", "*")]
    public void TryParse_Accepts_ServerSlashTool(string text, string server, string tool)
    {
        Assert.True(ToolGrant.TryParse(text, out var grant));
        Assert.Equal(server, grant.Server.Pattern);
        Assert.Equal(tool, grant.Tool.Pattern);
    }

    [Theory]
    [InlineData("")]
    [InlineData("github")]
    [InlineData("/tool")]
    [InlineData("server/")]
    [InlineData("a/b/c")]
    [InlineData("a b/c")]
    [InlineData(null)]
    public void TryParse_Rejects_Malformed(string? text) => Assert.False(ToolGrant.TryParse(text, out _));

    [Fact]
    public void GrantSet_DeniesByDefault_AndAllowsOnlyMatchingTools()
    {
        var errors = new List<string>();
        var set = GrantSet.Parse(["github/list_*", "files/read"], errors);

        Assert.Empty(errors);
        Assert.False(GrantSet.None.Allows("github", "list_issues", AccessClass.Write, Now));
        Assert.True(set.Allows("github", "list_issues", AccessClass.Write, Now));
        Assert.False(set.Allows("github", "delete_repo", AccessClass.Write, Now));
        Assert.True(set.Allows("files", "read", AccessClass.Write, Now));
        Assert.False(set.Allows("files", "write", AccessClass.Write, Now));
        Assert.False(set.Allows("other", "read", AccessClass.Write, Now));
        Assert.True(set.AllowsAnyOf("files", Now));
        Assert.False(set.AllowsAnyOf("other", Now));
    }

    [Fact]
    public void GrantSet_Parse_ReportsEveryInvalidGrant()
    {
        var errors = new List<string>();
        GrantSet.Parse(["ok/*", "bad", "also bad/x"], errors);
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("'bad'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'also bad/x'", StringComparison.Ordinal));
    }
}
