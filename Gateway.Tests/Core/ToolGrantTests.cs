using Gateway.Core.Grants;

namespace Gateway.Tests.Core;

public sealed class ToolGrantTests
{
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
        Assert.False(GrantSet.None.Allows("github", "list_issues"));
        Assert.True(set.Allows("github", "list_issues"));
        Assert.False(set.Allows("github", "delete_repo"));
        Assert.True(set.Allows("files", "read"));
        Assert.False(set.Allows("files", "write"));
        Assert.False(set.Allows("other", "read"));
        Assert.True(set.AllowsAnyOf("files"));
        Assert.False(set.AllowsAnyOf("other"));
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
