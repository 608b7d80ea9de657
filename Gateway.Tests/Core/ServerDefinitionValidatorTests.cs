using Gateway.Core.Servers;

namespace Gateway.Tests.Core;

public sealed class ServerDefinitionValidatorTests
{
    private static readonly ServerDefinitionValidator Validator = new();

    [Fact]
    public void Accepts_StdioAndHttpServers()
    {
        Assert.True(Validator.Validate(new ServerDefinition { Name = "files", Transport = ServerTransport.Stdio, Command = "node", Args = ["server.js"] }).IsValid);
        Assert.True(Validator.Validate(new ServerDefinition { Name = "gh-1", Transport = ServerTransport.Http, Url = "https://example.com/mcp", ToolPrefix = "" }).IsValid);
        Assert.True(Validator.Validate(new ServerDefinition { Name = "legacy_1", Transport = ServerTransport.Sse, Url = "http://127.0.0.1:9/sse" }).IsValid);
    }

    [Fact]
    public void Rejects_WithEveryErrorListed()
    {
        var result = Validator.Validate(new ServerDefinition
        {
            Name = "bad name",
            Transport = ServerTransport.Http,
            Url = "ftp://x",
            Command = "node",
            ToolPrefix = "has space",
            Headers = new Dictionary<string, string> { ["Bad Header"] = "x", ["Mcp-Session-Id"] = "y" },
            CallTimeout = TimeSpan.Zero,
        });

        var properties = result.Errors.Select(e => e.PropertyName).ToList();
        Assert.Contains("Name", properties);
        Assert.Contains("Url", properties);
        Assert.Contains("Command", properties);
        Assert.Contains("ToolPrefix", properties);
        Assert.Contains("CallTimeout", properties);
        Assert.True(result.Errors.Count(e => e.PropertyName.StartsWith("Headers", StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public void Rejects_StdioWithoutCommand_AndHttpWithoutUrl()
    {
        Assert.Contains(Validator.Validate(new ServerDefinition { Name = "a", Transport = ServerTransport.Stdio }).Errors, e => e.PropertyName == "Command");
        Assert.Contains(Validator.Validate(new ServerDefinition { Name = "a", Transport = ServerTransport.Http }).Errors, e => e.PropertyName == "Url");
    }

    [Fact]
    public void EffectivePrefix_DefaultsToNameAndUnderscores_EmptyMeansNone()
    {
        Assert.Equal("gh__", new ServerDefinition { Name = "gh", Transport = ServerTransport.Http }.EffectivePrefix);
        Assert.Equal(string.Empty, new ServerDefinition { Name = "gh", Transport = ServerTransport.Http, ToolPrefix = "" }.EffectivePrefix);
    }
}
