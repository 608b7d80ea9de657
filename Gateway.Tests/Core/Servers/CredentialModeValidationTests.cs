using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Validation;

namespace Gateway.Tests.Core.Servers;

/// <summary>The credential mode of a server: what each mode needs, reported by field (as the API and the console show it).</summary>
public sealed class CredentialModeValidationTests
{
    private static readonly ServerDefinitionValidator Validator = new();

    private static readonly UpstreamCredential OAuthClient = new() { Kind = CredentialKind.OAuthClientCredentials, ClientId = "gateway", Secret = "s", TokenEndpoint = "https://idp.example/token" };

    private static ServerDefinition Http(CredentialMode mode) => new() { Name = "hr", Transport = ServerTransport.Http, Url = "https://hr.example/mcp", CredentialMode = mode };

    [Fact]
    public void EachMode_WithWhatItNeeds_IsValid()
    {
        Assert.True(Validator.Validate(Http(CredentialMode.Shared)).IsValid);
        Assert.True(Validator.Validate(Http(CredentialMode.TokenExchange) with { ExchangeAudience = "hr-api" }).IsValid);
        Assert.True(Validator.Validate(Http(CredentialMode.TokenExchange) with { ExchangeResource = "https://hr.example/mcp" }).IsValid);
        Assert.True(Validator.Validate(Http(CredentialMode.PerUser) with { Credential = OAuthClient }).IsValid);
    }

    [Theory]
    [InlineData("tokenExchange-without-target", "exchangeAudience", "needs ExchangeAudience or ExchangeResource")]
    [InlineData("tokenExchange-relative-resource", "exchangeResource", "must be an absolute http or https URL")]
    [InlineData("tokenExchange-long-audience", "exchangeAudience", "at most 2048 characters")]
    [InlineData("perUser-without-oauth", "credentialMode", "needs an OAuth credential")]
    [InlineData("stdio", "credentialMode", "need an http or sse server")]
    [InlineData("audience-with-shared", "exchangeAudience", "applies only to CredentialMode tokenExchange")]
    public void WhatAModeLacks_IsReportedOnItsField(string kind, string field, string message)
    {
        var definition = kind switch
        {
            "tokenExchange-without-target" => Http(CredentialMode.TokenExchange),
            "tokenExchange-relative-resource" => Http(CredentialMode.TokenExchange) with { ExchangeResource = "/mcp" },
            "tokenExchange-long-audience" => Http(CredentialMode.TokenExchange) with { ExchangeAudience = new string('a', ServerDefinitionValidator.MaxExchangeTargetLength + 1) },
            "perUser-without-oauth" => Http(CredentialMode.PerUser) with { Credential = new UpstreamCredential { Kind = CredentialKind.Bearer, Secret = "x" } },
            "stdio" => new ServerDefinition { Name = "hr", Transport = ServerTransport.Stdio, Command = "node", CredentialMode = CredentialMode.TokenExchange, ExchangeAudience = "hr" },
            _ => Http(CredentialMode.Shared) with { ExchangeAudience = "hr-api" },
        };

        var errors = Validator.Validate(definition).ByField();

        Assert.Contains(message, string.Join(" ", errors.GetValueOrDefault(field, [])), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, CredentialMode.Shared)]
    [InlineData("", CredentialMode.Shared)]
    [InlineData("shared", CredentialMode.Shared)]
    [InlineData("tokenExchange", CredentialMode.TokenExchange)]
    [InlineData("PERUSER", CredentialMode.PerUser)]
    public void ModeNames_Parse(string? text, CredentialMode expected)
    {
        Assert.True(CredentialModes.TryParse(text, out var mode));
        Assert.Equal(expected, mode);
        Assert.True(CredentialModes.TryParse(mode.Name(), out var again));
        Assert.Equal(mode, again);
    }

    [Fact]
    public void AnUnknownModeName_IsRefused() => Assert.False(CredentialModes.TryParse("impersonate", out _));
}
