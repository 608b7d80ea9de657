using Gateway.Core.Servers;
using Gateway.Web.Validation;

namespace Gateway.Tests.Core.Servers;

/// <summary>
/// The secrets written inside a server's URL and arguments: which parts are hidden, that what is plain stays exactly as
/// written, that a mask sent back keeps the stored value, and that a mask with nothing to keep is refused.
/// </summary>
public sealed class SecretPartsTests
{
    private const string P = SecretNames.Placeholder;

    [Theory]
    [InlineData("https://mcp.example.com/mcp?api_key=abc123&region=eu", $"https://mcp.example.com/mcp?api_key={P}&region=eu")]
    [InlineData("https://mcp.example.com/mcp?region=eu&token=abc", $"https://mcp.example.com/mcp?region=eu&token={P}")]
    [InlineData("https://mcp.example.com/mcp?apiKey=abc#frag", $"https://mcp.example.com/mcp?apiKey={P}#frag")]
    [InlineData("https://acct.blob.example/c?sv=2024&sig=AbC%2Fdef", $"https://acct.blob.example/c?sv=2024&sig={P}")]
    [InlineData("https://user:pa55word@mcp.example.com/mcp", $"https://{P}@mcp.example.com/mcp")]
    [InlineData("https://tok3n@mcp.example.com/mcp", $"https://{P}@mcp.example.com/mcp")]
    [InlineData("https://mcp.example.com/ghp_0123456789abcdefghijABCDEFGHIJ012345/mcp", $"https://mcp.example.com/{P}/mcp")]
    [InlineData("https://mcp.example.com/mcp?region=eu&keyboard=us", "https://mcp.example.com/mcp?region=eu&keyboard=us")]
    [InlineData("http://localhost:8080/mcp", "http://localhost:8080/mcp")]
    [InlineData("https://mcp.example.com/mcp?api_key=", "https://mcp.example.com/mcp?api_key=")]
    public void Urls_ShowOnlyTheirPlainParts(string url, string shown)
    {
        Assert.Equal(shown, SecretParts.MaskUrl(url));
        Assert.Equal(url != shown, SecretParts.Any(url, []));
        Assert.Equal(shown, SecretParts.MaskUrl(shown));
        Assert.False(SecretParts.Any(shown, []), "a masked URL holds nothing more to hide");
    }

    [Fact]
    public void Arguments_ShowOnlyTheirPlainParts()
    {
        string[] args =
        [
            "-y", "mcp-remote", "https://mcp.example.com/sse?token=abc", "--header", "Authorization: Bearer xyz",
            "--api-key", "k-123", "--password=hunter22", "--port", "8080", "GITHUB_TOKEN=ghtok", "--verbose",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "--dsn=postgres://app:pw@db/app", "--url=https://x.example/?key=k9",
        ];

        Assert.Equal(
            [
                "-y", "mcp-remote", $"https://mcp.example.com/sse?token={P}", "--header", $"Authorization: {P}",
                "--api-key", P, $"--password={P}", "--port", "8080", $"GITHUB_TOKEN={P}", "--verbose",
                P, $"--dsn={P}", $"--url=https://x.example/?key={P}",
            ],
            SecretParts.MaskArgs(args));
        Assert.Equal(
            ["abc", "Bearer xyz", "k-123", "hunter22", "ghtok", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "postgres://app:pw@db/app", "app:pw", "k9"],
            SecretParts.Values(null, args).Distinct());
        Assert.False(SecretParts.Any(null, SecretParts.MaskArgs(args)), "masked arguments hold nothing more to hide");
        Assert.False(SecretParts.Any(null, ["-y", "@modelcontextprotocol/server-github", "--port", "3000", "/srv/data"]));
    }

    [Fact]
    public void WhatWasShown_SentBack_KeepsTheStoredValues_InTheirOrder()
    {
        var stored = new ServerDefinition
        {
            Name = "crm",
            Transport = ServerTransport.Stdio,
            Command = "npx",
            Args = ["--token", "first-secret", "--password", "second-secret", "--mode", "fast"],
        };
        var shown = SecretParts.MaskArgs(stored.Args);

        // Unchanged: everything kept. A plain argument changed and one inserted before the secrets: still kept.
        Assert.Equal(stored.Args, SecretNames.KeepStored(stored with { Args = shown }, stored).Args);
        Assert.Equal(
            ["--new", "--token", "first-secret", "--password", "second-secret", "--mode", "slow"],
            SecretNames.KeepStored(stored with { Args = ["--new", .. shown[..5], "slow"] }, stored).Args);

        // A new value given in place of a mask replaces it.
        Assert.Equal(
            ["--token", "third", "--password", "second-secret", "--mode", "fast"],
            SecretNames.KeepStored(stored with { Args = ["--token", "third", .. shown[2..]] }, stored).Args);

        var http = new ServerDefinition { Name = "crm", Transport = ServerTransport.Http, Url = "https://crm.example/mcp?api_key=s3cret" };
        Assert.Equal(http.Url, SecretNames.KeepStored(http with { Url = SecretParts.MaskUrl(http.Url) }, http).Url);
        Assert.Equal("https://crm.example/mcp?api_key=other", SecretNames.KeepStored(http with { Url = "https://crm.example/mcp?api_key=other" }, http).Url);
    }

    [Fact]
    public void AMaskSentBackUnderAnotherFlag_KeepsNothing_AndSwappedFlagsKeepTheirOwnValues()
    {
        var stored = new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "npx", Args = ["--token", "first-secret", "--password", "second-secret"] };

        // A mask moved under a flag that shows its value would put the secret in clear there: not kept, and refused.
        var moved = SecretNames.KeepStored(stored with { Args = ["--mode", P] }, stored);
        Assert.Equal(["--mode", P], moved.Args);
        Assert.False(new ServerDefinitionValidator().Validate(moved).IsValid);

        // The pairs swapped: each flag keeps its own value, not the one at its new position.
        Assert.Equal(
            ["--password", "second-secret", "--token", "first-secret"],
            SecretNames.KeepStored(stored with { Args = ["--password", P, "--token", P] }, stored).Args);
    }

    [Fact]
    public void AHeaderGivenWithEquals_IsMasked_AndANullArgument_IsRefusedNotThrown()
    {
        Assert.Equal([$"--header=Authorization: {P}", "--header=X-Trace: one"], SecretParts.MaskArgs(["--header=Authorization: Bearer xyz", "--header=X-Trace: one"]));

        string[] withNull = ["x", null!];
        Assert.Equal(["x", string.Empty], SecretParts.MaskArgs(withNull));
        Assert.False(SecretParts.Any(null, withNull));
        var stdio = new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "npx", Args = withNull };
        Assert.Equal(["Args entries must be strings, not null."], new ServerDefinitionValidator().Validate(stdio).ByField()["args"]);
    }

    [Fact]
    public void AMaskWithNothingToKeep_IsRefused_NamingTheField()
    {
        var validator = new ServerDefinitionValidator();
        var http = new ServerDefinition { Name = "crm", Transport = ServerTransport.Http, Url = "https://crm.example/mcp?api_key=s3cret" };

        // The host changed with the key still masked: the shown URL is not the stored one, so nothing is kept.
        var edited = SecretNames.KeepStored(http with { Url = $"https://crm2.example/mcp?api_key={P}" }, http);
        Assert.Equal(
            [$"Url holds the masked placeholder {P} and is not the stored URL as shown: give the whole URL with its secret."],
            validator.Validate(edited).ByField()["url"]);

        var stdio = new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "npx", Args = ["--token", P] };
        Assert.Equal(
            [$"Argument '{P}' holds the masked placeholder {P} and is not a stored argument as shown: give the value."],
            validator.Validate(stdio).ByField()["args"]);
        Assert.True(validator.Validate(stdio with { Args = ["--token", "given"] }).IsValid);
    }

    /// <summary>
    /// A masked form matches the whole values it can stand for, each placeholder for some text (never none), whatever rules
    /// masked it;
    /// and no other.
    /// </summary>
    [Theory]
    [InlineData("https://h/mcp", "https://h/mcp", true)]
    [InlineData("https://h/mcp", "https://h/mcp?api_key=k", false)]
    [InlineData("https://h/?api_key=********", "https://h/?api_key=k1", true)]
    [InlineData("https://h/?api_key=********&note=ghp_x", "https://h/?api_key=k1&note=ghp_x", true)]
    [InlineData("https://h/?api_key=********&note=********", "https://h/?api_key=k1&note=ghp_x", true)]
    [InlineData("https://h/?api_key=********&note=********", "https://h/?api_key=k1&other=ghp_x", false)]
    [InlineData("https://********@h/?a=********", "https://u:p@h/?a=b", true)]
    [InlineData("https://h/?api_key=********&region=eu", "https://h/?api_key=k1&region=us", false)]
    [InlineData("--token=********", "--other=k", false)]
    [InlineData("********", "anything at all", true)]
    [InlineData("a********b********a", "aba", false)]
    [InlineData("a********b********a", "axbya", true)]
    [InlineData("a********a", "aa", false)]
    public void AMaskedForm_ShowsTheWholeValuesItCanStandFor(string shown, string whole, bool shows) =>
        Assert.Equal(shows, SecretParts.Shows(shown, whole));
}
