using Gateway.Core.Credentials;
using Gateway.Core.Servers;

namespace Gateway.Tests.Core;

public sealed class UpstreamCredentialTests
{
    [Theory]
    [InlineData("abcdefghijklmnop", "••••mnop")]
    [InlineData("short-secret", "••••cret")]
    [InlineData("tiny", "••••")]
    [InlineData(null, "••••")]
    public void Hint_ShowsOnlyTheLastFourOfALongSecret(string? secret, string hint) =>
        Assert.Equal(hint, new UpstreamCredential { Kind = CredentialKind.Bearer, Secret = secret }.Hint);

    [Fact]
    public void ToString_NeverPrintsTheSecret_NorDoesTheServerDefinitionsToString()
    {
        var credential = new UpstreamCredential { Kind = CredentialKind.Headers, Values = new Dictionary<string, string> { ["X-Token"] = "header-secret-0123456789" } };
        var server = new ServerDefinition { Name = "s", Transport = ServerTransport.Http, Url = "http://x/mcp", Credential = credential with { Secret = "other-secret-0123456789" } };
        Assert.DoesNotContain("secret-0123456789", credential.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret-0123456789", server.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SameAs_ComparesTheCredential_ButNotItsRotationTime()
    {
        var a = new ServerDefinition { Name = "s", Transport = ServerTransport.Http, Url = "http://x/mcp", Credential = new UpstreamCredential { Kind = CredentialKind.Bearer, Secret = "one" } };
        Assert.True(a.SameAs(a with { Credential = a.Credential! with { RotatedAt = DateTimeOffset.UnixEpoch } }));
        Assert.False(a.SameAs(a with { Credential = a.Credential! with { Secret = "two" } }));
        Assert.False(a.SameAs(a with { Credential = null }));
    }

    [Theory]
    [InlineData(ServerTransport.Stdio, CredentialKind.Bearer, "credential.kind")]
    [InlineData(ServerTransport.Http, CredentialKind.Env, "credential.kind")]
    [InlineData(ServerTransport.Http, CredentialKind.Bearer, "credential.secret")]
    [InlineData(ServerTransport.Http, CredentialKind.Basic, "credential.username")]
    [InlineData(ServerTransport.Http, CredentialKind.Headers, "credential.values")]
    [InlineData(ServerTransport.Http, CredentialKind.OAuthClientCredentials, "credential.clientId")]
    public void Validator_RefusesIncompleteOrMisplacedCredentials(ServerTransport transport, CredentialKind kind, string field)
    {
        var server = new ServerDefinition
        {
            Name = "s",
            Transport = transport,
            Command = transport == ServerTransport.Stdio ? "node" : null,
            Url = transport == ServerTransport.Stdio ? null : "http://x/mcp",
            Credential = new UpstreamCredential { Kind = kind },
        };
        var errors = new ServerDefinitionValidator().Validate(server).Errors;
        Assert.Contains(errors, e => string.Equals(e.PropertyName, field, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Validator_RefusesManagedHeaderNames_AndControlCharacters()
    {
        var server = new ServerDefinition
        {
            Name = "s",
            Transport = ServerTransport.Http,
            Url = "http://x/mcp",
            Credential = new UpstreamCredential { Kind = CredentialKind.Headers, Values = new Dictionary<string, string> { ["Host"] = "a", ["X-Ok"] = "line\r\nInjected: yes" } },
        };
        var errors = new ServerDefinitionValidator().Validate(server).Errors.Select(e => e.ErrorMessage).ToList();
        Assert.Contains(errors, e => e.Contains("Host and Mcp-Session-Id", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("control characters", StringComparison.Ordinal));
    }
}
