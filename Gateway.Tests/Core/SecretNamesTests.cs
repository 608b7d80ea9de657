using Gateway.Core.Servers;

namespace Gateway.Tests.Core;

/// <summary>The one rule for which Env and Headers values are secrets (encrypted at rest, masked when shown).</summary>
public sealed class SecretNamesTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("proxy-authorization")]
    [InlineData("Cookie")]
    [InlineData("Set-Cookie")]
    [InlineData("X-Api-Key")]
    [InlineData("OPENAI_API_KEY")]
    [InlineData("x-apikey")]
    [InlineData("apiKey")]
    [InlineData("GITHUB_TOKEN")]
    [InlineData("X-Auth-Token")]
    [InlineData("CLIENT_SECRET")]
    [InlineData("DB_PASSWORD")]
    [InlineData("SMTP_PASSWD")]
    [InlineData("AWS_CREDENTIALS")]
    [InlineData("SSH_PRIVATE_KEY")]
    [InlineData("SIGNING_KEY")]
    [InlineData("KEY")]
    [InlineData("X-Key")]
    [InlineData("GITHUB_PAT")]
    [InlineData("SENTRY_DSN")]
    [InlineData("X-Session")]
    public void SecretLookingNames_AreSecrets_WhateverTheirCase(string name)
    {
        Assert.True(SecretNames.IsSecret(name));
        Assert.True(SecretNames.IsSecret(name.ToUpperInvariant()));
        Assert.True(SecretNames.IsSecret(name.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("PATH")]
    [InlineData("HOME")]
    [InlineData("LOG_LEVEL")]
    [InlineData("KEYBOARD_LAYOUT")]
    [InlineData("X-Trace")]
    [InlineData("Accept-Language")]
    [InlineData("NODE_ENV")]
    [InlineData("COMPATIBILITY_MODE")]
    public void PlainNames_AreNot(string name) => Assert.False(SecretNames.IsSecret(name));

    [Fact]
    public void Mask_HidesOnlySecretValues_AndKeepStored_PutsThemBackForThePlaceholderOnly()
    {
        var stored = new ServerDefinition
        {
            Name = "s",
            Transport = ServerTransport.Http,
            Url = "http://127.0.0.1:9/mcp",
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer real", ["X-Api-Key"] = "old", ["X-Trace"] = "on" },
        };
        Assert.Equal(new Dictionary<string, string> { ["Authorization"] = SecretNames.Placeholder, ["X-Api-Key"] = SecretNames.Placeholder, ["X-Trace"] = "on" }, SecretNames.Mask(stored.Headers));

        var incoming = stored with { Headers = new Dictionary<string, string> { ["Authorization"] = SecretNames.Placeholder, ["X-Api-Key"] = "new", ["Cookie"] = SecretNames.Placeholder } };
        var kept = SecretNames.KeepStored(incoming, stored);
        Assert.Equal("Bearer real", kept.Headers["Authorization"]);
        Assert.Equal("new", kept.Headers["X-Api-Key"]);
        Assert.False(kept.Headers.ContainsKey("X-Trace"));

        // No stored value to stand for: the validator refuses rather than send "********" upstream.
        var result = new ServerDefinitionValidator().Validate(kept);
        Assert.Equal(["Header 'Cookie' is the masked placeholder ******** and has no stored value to keep: give the value."], result.Errors.Select(e => e.ErrorMessage));
    }
}
