using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// An upstream that requires OAuth: the gateway obtains client-credentials tokens from a real authorization server
/// (OpenIddict), sends them, and replaces them before they expire; failures show on the server and fail calls fast.
/// </summary>
public sealed class UpstreamOAuthTests
{
    private const string AgentKey = "oauth-agent-key-0123456789";
    private const string ClientSecret = "oauth-client-secret-0123456789";

    [Fact]
    public async Task CallsKeepWorking_AcrossSeveralTokenRefreshes_AndNoExpiredTokenIsEverSent()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(2));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("oauthed", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("oauthed", url), Agent("agent", AgentKey, "*/*"), OAuth("oauthed", tokens)));
        await gateway.WaitForToolAsync("oauthed__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);

        // Each new token is obtained before the previous one expires (half its lifetime before, here); the health
        // pings and these calls keep using the connection across every replacement.
        for (var n = 2; n <= 5; n++)
        {
            await tokens.WaitForIssuedAsync(n, TestContext.Timeout);
            var echo = await agent.CallToolAsync("oauthed__echo", new Dictionary<string, object?> { ["message"] = $"token {n}" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, echo.IsError);
            Assert.Contains($"echo: token {n}", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(gate.Requests, r => !r.Admitted);
        Assert.True(gate.Requests.Select(r => r.Headers["Authorization"]).Distinct().Count() >= 4, "several distinct tokens were used");
        Assert.DoesNotContain(gate.Requests, r => r.Text.Contains(AgentKey, StringComparison.Ordinal) || r.Text.Contains(ClientSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAccessTokenObtainedAtRunTime_IsRedactedFromResults_AsTheServersOwnCredential()
    {
        // Tokens of 6 s, replaced every 3 s: an echo that took two replacements (6 s) would carry an expired token.
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(6));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("echoing", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("echoing", url), Agent("agent", AgentKey, "*/*"), OAuth("echoing", tokens)));
        await gateway.WaitForToolAsync("echoing__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);

        // An upstream that hands back the token it was sent (here: the agent has it echoed) must not give it to the
        // agent. The first token, then one obtained after a refresh: each is the server's credential from then on.
        // Each is echoed as soon as it is seen: the guard knows the current token and the one before (the only two that
        // can be valid at once), so a token echoed only after a later refresh would be two behind.
        string Sent() => gate.Requests.Last(r => r.Admitted).Headers["Authorization"]["Bearer ".Length..];
        var first = Sent();
        await AssertRedactedAsync(first);
        await Eventually.TrueAsync(() => Sent() != first, "a refreshed token is sent", TimeSpan.FromSeconds(30));
        await AssertRedactedAsync(Sent());

        async Task AssertRedactedAsync(string token)
        {
            var echo = await agent.CallToolAsync("echoing__echo", new Dictionary<string, object?> { ["message"] = token }, cancellationToken: TestContext.Timeout);
            Assert.Equal("echo: [REDACTED:stored-credential]", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(echo.Content[0]).Text);
        }
    }

    [Fact]
    public async Task WhenTheTokenEndpointFails_TheServerNeedsAttention_AndCallsFailFastWithAToolError()
    {
        var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(2));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("fragile", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("fragile", url), Agent("agent", AgentKey, "*/*"), OAuth("fragile", tokens)));
        await gateway.WaitForToolAsync("fragile__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);

        // The authorization server goes away; within a token lifetime the gateway can no longer authenticate.
        await tokens.DisposeAsync();
        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("fragile", out var c) && c.State == UpstreamState.Failed, TestContext.Timeout);

        // The supervisor retries with backoff (state "connecting" for the attempt): the API is read until it shows the
        // failure, within the deadline, rather than once in a window a slow machine can miss.
        var deadline = TestContext.Timeout;
        JsonElement described;
        while ((described = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/fragile", deadline)).GetProperty("state").GetString() != "failed")
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), deadline);
        }

        Assert.Equal("failed", described.GetProperty("state").GetString());
        Assert.Contains("token", described.GetProperty("lastError").GetString(), StringComparison.OrdinalIgnoreCase);

        var watch = Stopwatch.StartNew();
        var result = await agent.CallToolAsync("fragile__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.True(result.IsError);
        Assert.Contains("fragile", JsonSerializer.Serialize(result.Content), StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the call took {watch.Elapsed}");
    }

    [Fact]
    public async Task WrongClientSecret_IsReportedWithTheAuthorizationServersError()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartHttpAsync("denied");
        await using var running = upstream;
        var settings = Merge(Http("denied", url), OAuth("denied", tokens));
        settings["Gateway:Servers:denied:Credential:Secret"] = "not-the-secret-0123456789";
        await using var gateway = await GatewayHost.StartAsync(settings);

        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("denied", out var c) && c.LastError is not null, TestContext.Timeout);
        Assert.True(gateway.Upstreams.TryGet("denied", out var connection));
        Assert.Contains("invalid_client", connection.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret", connection.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenEndpoint_OnLoopbackOrPlainHttp_IsRefusedUnlessConfigurationAllowsIt()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartHttpAsync("guarded");
        await using var running = upstream;
        var settings = Merge(Http("guarded", url), OAuth("guarded", tokens));
        settings["Gateway:OAuth:AllowHttp"] = "false";
        await using (var strict = await GatewayHost.StartAsync(settings))
        {
            await strict.Upstreams.WaitUntilAsync(_ => strict.Upstreams.TryGet("guarded", out var c) && c.LastError is not null, TestContext.Timeout);
            Assert.True(strict.Upstreams.TryGet("guarded", out var c));
            Assert.Contains("not HTTPS", c.LastError, StringComparison.Ordinal);
        }

        settings["Gateway:OAuth:AllowHttp"] = "true";
        settings["Gateway:OAuth:AllowPrivateAddresses"] = "false";
        await using var noPrivate = await GatewayHost.StartAsync(settings);
        await noPrivate.Upstreams.WaitUntilAsync(_ => noPrivate.Upstreams.TryGet("guarded", out var c) && c.LastError is not null, TestContext.Timeout);
        Assert.True(noPrivate.Upstreams.TryGet("guarded", out var refused));
        Assert.Contains("loopback, private or link-local", refused.LastError, StringComparison.Ordinal);
        Assert.Equal(0, tokens.Issued);
    }

    [Fact]
    public async Task WithoutATokenEndpoint_ItIsDiscoveredFromTheUpstreamsMetadata()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("discovered", gate: gate);
        await using var running = upstream;
        gate.ProtectedResourceMetadata = JsonSerializer.Serialize(new { resource = url, authorization_servers = new[] { tokens.Issuer } });
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        var settings = Merge(Http("discovered", url), Agent("agent", AgentKey, "*/*"), OAuth("discovered", tokens));
        settings["Gateway:Servers:discovered:Credential:TokenEndpoint"] = null;
        await using var gateway = await GatewayHost.StartAsync(settings);

        await gateway.WaitForToolAsync("discovered__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);
        var echo = await agent.CallToolAsync("discovered__echo", new Dictionary<string, object?> { ["message"] = "found" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, echo.IsError);
        Assert.Equal(1, tokens.Issued);
    }

    [Fact]
    public async Task ASecretInTheUpstreamUrlsQuery_IsNotSentAsTheResource_TheTokenNamesTheUrlWithoutIt()
    {
        // An upstream that takes its key in the query string: that key is for the upstream alone. As part of the
        // resource indicator it went to the authorization server, and into the token's audience.
        const string QuerySecret = "query-secret-0123456789";
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("keyed", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("keyed", url + "?api_key=" + QuerySecret), Agent("agent", AgentKey, "*/*"), OAuth("keyed", tokens)));
        await gateway.WaitForToolAsync("keyed__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);

        var echo = await agent.CallToolAsync("keyed__echo", new Dictionary<string, object?> { ["message"] = "keyed" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, echo.IsError);
        Assert.NotEmpty(tokens.Resources);
        Assert.All(tokens.Resources, resource => Assert.Equal(url, resource));
        Assert.Contains(gate.Requests, r => r.PathAndQuery.Contains(QuerySecret, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://169.254.169.254/", true, "loopback, private or link-local")]
    [InlineData("http://10.0.0.7/", true, "loopback, private or link-local")]
    [InlineData("http://as.example/", false, "not HTTPS")]
    public async Task AuthorizationServerLearnedFromMetadata_IsRefused_WhenPrivateOrNotHttps(string learned, bool allowHttp, string reason)
    {
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("lured", gate: gate);
        await using var running = upstream;
        gate.ProtectedResourceMetadata = JsonSerializer.Serialize(new { resource = url, authorization_servers = new[] { learned } });
        gate.Authorize = _ => ValueTask.FromResult(false);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:Servers:lured:Transport"] = "http",
            ["Gateway:Servers:lured:Url"] = url,
            ["Gateway:Servers:lured:ConnectTimeout"] = "5",
            ["Gateway:Servers:lured:Credential:Kind"] = "oauth",
            ["Gateway:Servers:lured:Credential:ClientId"] = "gateway",
            ["Gateway:Servers:lured:Credential:Secret"] = ClientSecret,
            ["Gateway:OAuth:AllowHttp"] = allowHttp ? "true" : "false",
            ["Gateway:OAuth:AllowPrivateAddresses"] = "false",
        });

        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("lured", out var c) && c.LastError is not null, TestContext.Timeout);
        Assert.True(gateway.Upstreams.TryGet("lured", out var connection));
        Assert.Contains(reason, connection.LastError, StringComparison.Ordinal);
        Assert.Empty(gate.Requests);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("100.100.1.1", true)]
    [InlineData("239.1.1.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("ff02::1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:4700::1111", false)]
    public void PrivateAddresses_AreRecognised(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, Gateway.Web.Credentials.OAuth.OutboundUrlPolicy.IsPrivate(IPAddress.Parse(address)));

    /// <summary>An OAuth client-credentials credential against <paramref name="tokens"/>; loopback http allowed, as in every test.</summary>
    private static Dictionary<string, string?> OAuth(string server, TestTokenServer tokens) => new()
    {
        [$"Gateway:Servers:{server}:Credential:Kind"] = "oauth",
        [$"Gateway:Servers:{server}:Credential:TokenEndpoint"] = tokens.TokenEndpoint,
        [$"Gateway:Servers:{server}:Credential:ClientId"] = TestTokenServer.ClientId,
        [$"Gateway:Servers:{server}:Credential:Secret"] = ClientSecret,
        ["Gateway:OAuth:AllowHttp"] = "true",
        ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
    };
}
