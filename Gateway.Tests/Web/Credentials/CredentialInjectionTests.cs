using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// The stored credential reaches the upstream on every request; nothing that identifies the agent does
/// (token passthrough is forbidden by the MCP specification).
/// </summary>
public sealed class CredentialInjectionTests
{
    private const string AgentKey = "inject-agent-key-0123456789";

    [Theory]
    [InlineData("http")]
    [InlineData("sse")]
    public async Task UpstreamGetsTheStoredBearer_AndNeverTheAgentsKey_CookieOrApiKey(string transport)
    {
        var secret = "upstream-bearer-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("guarded", sse: transport == "sse", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("guarded", url, transport),
            Agent("agent", AgentKey, "*/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:Servers:guarded:Credential:Kind"] = "bearer",
                ["Gateway:Servers:guarded:Credential:Secret"] = secret,
            }));
        await gateway.WaitForToolAsync("guarded__echo");

        // The agent sends its key plus other identity headers a careless proxy might copy along.
        const string cookie = "session=agent-cookie-value-42";
        const string apiKey = "agent-x-api-key-value-42";
        await using var agent = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = gateway.McpUri,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string>
                {
                    ["Authorization"] = "Bearer " + AgentKey,
                    ["Cookie"] = cookie,
                    ["X-Api-Key"] = apiKey,
                    ["Proxy-Authorization"] = "Basic YWdlbnQ6cGFzcw==",
                },
            }),
            cancellationToken: TestContext.Timeout);
        var before = gate.Requests.Count;
        for (var i = 0; i < 3; i++)
        {
            var echo = await agent.CallToolAsync("guarded__echo", new Dictionary<string, object?> { ["message"] = $"call {i}" }, cancellationToken: TestContext.Timeout);
            Assert.Contains($"echo: call {i}", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        }

        var requests = gate.Requests;
        Assert.True(requests.Count > before, "the calls reached the upstream");
        Assert.All(requests, r => Assert.Equal("Bearer " + secret, r.Headers["Authorization"]));
        Assert.All(requests, r => Assert.True(r.Admitted));
        foreach (var forbidden in new[] { AgentKey, "agent-cookie-value-42", apiKey, "YWdlbnQ6cGFzcw==" })
        {
            Assert.DoesNotContain(requests, r => r.Text.Contains(forbidden, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(requests, r => r.Headers.ContainsKey("Cookie") || r.Headers.ContainsKey("X-Api-Key") || r.Headers.ContainsKey("Proxy-Authorization"));
    }

    [Fact]
    public async Task WithoutTheCredential_TheUpstreamRefusesTheGateway_SoTheTestUpstreamReallyChecks()
    {
        var gate = new HeaderGate();
        gate.RequireBearer("some-secret-nobody-configured");
        var (upstream, url) = await StartHttpAsync("guarded", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("guarded", url), Agent("agent", AgentKey, "*/*")));

        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("guarded", out var c) && c.LastError is not null, TestContext.Timeout);
        Assert.False(gateway.Upstreams.Catalog.Tools.TryResolve("guarded__echo", out _));
        Assert.Contains(gate.Requests, r => !r.Admitted);
    }

    [Theory]
    [InlineData("apiKey", "X-Upstream-Key", null)]
    [InlineData("basic", "Authorization", "robot")]
    [InlineData("headers", "X-Custom-Token", null)]
    public async Task OtherHeaderKinds_ArePresentedAsConfigured(string kind, string header, string? username)
    {
        var secret = "kind-secret-" + Guid.NewGuid().ToString("N");
        var expected = kind == "basic" ? "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{username}:{secret}")) : secret;
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("kinds", gate: gate);
        await using var running = upstream;
        var settings = Merge(Http("kinds", url), Agent("agent", AgentKey, "*/*"));
        settings["Gateway:Servers:kinds:Credential:Kind"] = kind;
        if (kind == "headers")
        {
            settings[$"Gateway:Servers:kinds:Credential:Values:{header}"] = secret;
        }
        else
        {
            settings["Gateway:Servers:kinds:Credential:Secret"] = secret;
            settings["Gateway:Servers:kinds:Credential:HeaderName"] = kind == "apiKey" ? header : null;
            settings["Gateway:Servers:kinds:Credential:Username"] = username;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitForToolAsync("kinds__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);
        await agent.CallToolAsync("kinds__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);

        Assert.All(gate.Requests, r => Assert.Equal(expected, r.Headers[header]));
        Assert.DoesNotContain(gate.Requests, r => r.Text.Contains(AgentKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StdioServer_GetsAnEnvCredential_ReferencedFromTheGatewaysEnvironment()
    {
        var variable = "GW_TEST_UPSTREAM_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var secret = "stdio-secret-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            var settings = Merge(Stdio("child"), Agent("agent", AgentKey, "*/*"));
            settings["Gateway:Servers:child:Credential:Kind"] = "env";
            settings["Gateway:Servers:child:Credential:Values:UPSTREAM_TOKEN"] = "env:" + variable;
            settings["Gateway:Servers:child:Guard:Secrets"] = "off"; // the upstream echoes the credential as proof; the result guard would redact it
            await using var gateway = await GatewayHost.StartAsync(settings);
            await gateway.WaitForToolAsync("child__env");
            await using var agent = await gateway.ConnectAsync(AgentKey);

            var seen = await agent.CallToolAsync("child__env", new Dictionary<string, object?> { ["name"] = "UPSTREAM_TOKEN" }, cancellationToken: TestContext.Timeout);
            Assert.Contains(secret, JsonSerializer.Serialize(seen.Content), StringComparison.Ordinal);

            // The referenced variable itself is the gateway's, not the child's.
            var own = await agent.CallToolAsync("child__env", new Dictionary<string, object?> { ["name"] = variable }, cancellationToken: TestContext.Timeout);
            Assert.Contains("(unset)", JsonSerializer.Serialize(own.Content), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
