using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Validation;

namespace Gateway.Tests.Core.Servers;

/// <summary>
/// The agent headers a server forwards: an allow-list of plain headers, never a credential, HTTP's own, the forwarding
/// chain or the protocol's, and never one the gateway sets for the server itself. Reported on <c>forwardHeaders</c>.
/// </summary>
public sealed class ForwardHeadersValidationTests
{
    private static readonly ServerDefinitionValidator Validator = new();

    private static ServerDefinition Http(params string[] names) =>
        new() { Name = "crm", Transport = ServerTransport.Http, Url = "https://crm.example/mcp", ForwardHeaders = names };

    private static string Errors(ServerDefinition definition) =>
        string.Join(" ", Validator.Validate(definition).ByField().GetValueOrDefault("forwardHeaders", []));

    [Fact]
    public void PlainHeaders_UpToTheLimit_AreValid()
    {
        Assert.True(Validator.Validate(Http("X-Tenant-Id", "X-Request-Id", "Accept-Language", "baggage")).IsValid);
        var atLimit = Enumerable.Range(0, ForwardedHeaders.MaxNames).Select(i => $"X-Custom-{i}").ToArray();
        Assert.True(Validator.Validate(Http(atLimit)).IsValid);
        Assert.True(Validator.Validate(Http(new string('x', ForwardedHeaders.MaxNameLength))).IsValid);
        Assert.True(Validator.Validate(Http("X-Tenant-Id") with { Transport = ServerTransport.Sse }).IsValid);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("authorization")]
    [InlineData("Proxy-Authorization")]
    [InlineData("Cookie")]
    [InlineData("DPoP")]
    [InlineData("dpop")]
    [InlineData("X-Api-Key")]
    [InlineData("Host")]
    [InlineData("Content-Length")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Origin")]
    [InlineData("Forwarded")]
    [InlineData("X-Forwarded-For")]
    [InlineData("x-forwarded-host")]
    [InlineData("X-Real-IP")]
    [InlineData("Mcp-Session-Id")]
    [InlineData("MCP-Protocol-Version")]
    [InlineData("Mcp-Param-Region")]
    [InlineData("Last-Event-ID")]
    [InlineData("traceparent")]
    [InlineData("Sec-Fetch-Site")]
    public void AHeaderThatIsNeverForwarded_IsRefusedByName(string name)
    {
        Assert.Contains($"Header '{name}' is never forwarded", Errors(Http("X-Tenant-Id", name)), StringComparison.Ordinal);
    }

    [Fact]
    public void AHeaderTheGatewaySetsForTheServer_CannotAlsoComeFromTheAgent()
    {
        var apiKey = Http("X-Search-Key") with { Credential = new UpstreamCredential { Kind = CredentialKind.ApiKey, HeaderName = "X-Search-Key", Secret = "s" } };
        var headers = Http("x-partner") with { Credential = new UpstreamCredential { Kind = CredentialKind.Headers, Values = new Dictionary<string, string> { ["X-Partner"] = "p" } } };
        var fixedHeader = Http("X-Region") with { Headers = new Dictionary<string, string> { ["X-Region"] = "eu" } };

        foreach (var definition in new[] { apiKey, headers, fixedHeader })
        {
            Assert.Contains("is set by the gateway for this server", Errors(definition), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("too-many")]
    [InlineData("too-long")]
    [InlineData("not-a-token")]
    [InlineData("empty")]
    [InlineData("twice")]
    [InlineData("stdio")]
    public void AMalformedList_IsRefused(string kind)
    {
        var (definition, message) = kind switch
        {
            "too-many" => (Http([.. Enumerable.Range(0, ForwardedHeaders.MaxNames + 1).Select(i => $"X-Custom-{i}")]), "at most 16 agent headers"),
            "too-long" => (Http(new string('x', ForwardedHeaders.MaxNameLength + 1)), "HTTP tokens of at most 64 characters"),
            "not-a-token" => (Http("X Tenant"), "HTTP tokens"),
            "empty" => (Http(string.Empty), "HTTP tokens"),
            "twice" => (Http("X-Tenant-Id", "x-tenant-id"), "each header once"),
            _ => (new ServerDefinition { Name = "crm", Transport = ServerTransport.Stdio, Command = "node", ForwardHeaders = ["X-Tenant-Id"] }, "a stdio child receives no headers"),
        };

        Assert.Contains(message, Errors(definition), StringComparison.Ordinal);
    }

    [Fact]
    public void AChangedList_IsAChangedDefinition()
    {
        // The running connection is rebuilt only for a definition that is not SameAs the running one.
        Assert.True(Http("X-Tenant-Id").SameAs(Http("X-Tenant-Id")));
        Assert.False(Http("X-Tenant-Id").SameAs(Http("X-Tenant-Id", "X-Request-Id")));
        Assert.False(Http().SameAs(Http("X-Tenant-Id")));
    }
}
