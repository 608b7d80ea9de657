using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.Web.Mcp;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>Every MCP request is authenticated; missing, wrong, revoked or disabled keys get 401 with WWW-Authenticate.</summary>
public sealed class AgentAuthenticationTests
{
    private const string InitializeBody = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    private static async Task<HttpResponseMessage> PostMcpAsync(GatewayHost gateway, string? authorization)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(InitializeBody, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await http.SendAsync(request, TestContext.Timeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key-0123456789")]
    [InlineData("Basic YWxpY2U6cGFzcw==")]
    [InlineData("Bearer ")]
    [InlineData("Bearer mgw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAA")]
    public async Task BadCredentials_Get401WithWwwAuthenticate(string? authorization)
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("alice", "alice-key-0123456789", "*/*"));

        using var response = await PostMcpAsync(gateway, authorization);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAdminKey_AndASignedInConsoleUser_AreNoAgents()
    {
        // /mcp and every virtual server's path authenticate agents only (by the default scheme's choice by path): an
        // admin's key or sign-in cookie, which the admin API and the console take, opens no MCP session.
        await using var gateway = await GatewayHost.StartAsync(Agent("alice", "alice-key-0123456789", "*/*"));
        using (var response = await PostMcpAsync(gateway, "Bearer " + GatewayHost.AdminKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var browser = ConsoleBrowser.For(gateway);
        await browser.SignInAsAdminAsync();
        foreach (var path in new[] { "/mcp", "/mcp/some-server" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(InitializeBody, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json, text/event-stream");
            using var response = await browser.Client.SendAsync(request, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        // The same cookie does open the console's API: it is a valid sign-in, refused only as an agent.
        using var api = await browser.Client.GetAsync("/api/v1/servers", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task ProvisionedKey_IsAccepted()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("alice", "alice-key-0123456789", "*/*"));
        using var response = await PostMcpAsync(gateway, "Bearer alice-key-0123456789");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RevokedKey_FailsOnTheNextRequest_AlsoOnAnOpenSession()
    {
        await using var gateway = await GatewayHost.StartAsync(Stdio("files"));
        await gateway.WaitForToolAsync("files__echo");
        var created = await CreateAgentAsync(gateway, "bob", "files/*");
        var key = created.GetProperty("apiKey").GetString()!;
        var keyId = created.GetProperty("keyId").GetInt64();

        await using var session = await gateway.ConnectAsync(key, "2025-11-25");
        Assert.NotEmpty(await session.ListToolsAsync(cancellationToken: TestContext.Timeout));
        var registry = gateway.Services.GetRequiredService<McpSessionRegistry>();
        Assert.Equal(1, registry.Count);

        using var revoke = await gateway.Admin.DeleteAsync($"/api/v1/agents/bob/keys/{keyId}", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        // The open session is no longer served (no notifications, no slot), not just refused at the next request.
        await Eventually(() => Task.FromResult(registry.Count == 0));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => session.ListToolsAsync(cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("401", ex.ToString(), StringComparison.Ordinal);
        using var fresh = await PostMcpAsync(gateway, "Bearer " + key);
        Assert.Equal(HttpStatusCode.Unauthorized, fresh.StatusCode);
    }

    [Fact]
    public async Task CallInFlight_WhenItsKeyIsRevoked_IsCancelled_AndDoesNotHang()
    {
        var name = "rv" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Http(name, url));
        await gateway.WaitForToolAsync($"{name}__slow");
        var created = await CreateAgentAsync(gateway, "slowpoke", $"{name}/*");
        await using var session = await gateway.ConnectAsync(created.GetProperty("apiKey").GetString()!, "2025-11-25");

        var call = session.CallToolAsync($"{name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 30_000 }, cancellationToken: TestContext.Timeout).AsTask();
        await Eventually(() => Task.FromResult(Gateway.TestUpstream.CallLog.Count(name, "slow") == 1));
        using var revoke = await gateway.Admin.DeleteAsync($"/api/v1/agents/slowpoke/keys/{created.GetProperty("keyId").GetInt64()}", TestContext.Timeout);

        // The agent gets an answer (not a 30 s wait), and the upstream's work is cancelled.
        var finished = await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(20), TestContext.Timeout));
        Assert.Same(call, finished);
        await Eventually(() => Task.FromResult(Gateway.TestUpstream.CallLog.Count(name, "slow:cancelled") == 1));
    }

    [Fact]
    public async Task DisabledAgent_Gets401_AndRotationReplacesTheKey()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var created = await CreateAgentAsync(gateway, "carol", "x/*");
        var first = created.GetProperty("apiKey").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await PostMcpAsync(gateway, "Bearer " + first)).StatusCode);

        using var rotate = await gateway.Admin.PostAsync("/api/v1/agents/carol/keys/rotate", null, TestContext.Timeout);
        var second = (await rotate.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostMcpAsync(gateway, "Bearer " + first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostMcpAsync(gateway, "Bearer " + second)).StatusCode);

        using var disable = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/carol", new { enabled = false }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostMcpAsync(gateway, "Bearer " + second)).StatusCode);
    }

    [Fact]
    public async Task RevocationOnOneInstance_IsEnforcedByAnotherInstanceOnTheSameDatabase()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var first = await GatewayHost.StartAsync(new Dictionary<string, string?>(), directory);
            await using var second = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Database:ChangePollInterval"] = "00:00:00.200" }, directory);
            var created = await CreateAgentAsync(first, "dave", "x/*");
            var key = created.GetProperty("apiKey").GetString()!;

            // The second instance learns of the new agent from the database, then of its revocation.
            await Eventually(async () => (await PostMcpAsync(second, "Bearer " + key)).StatusCode == HttpStatusCode.OK);
            using var revoke = await first.Admin.DeleteAsync($"/api/v1/agents/dave/keys/{created.GetProperty("keyId").GetInt64()}", TestContext.Timeout);
            await Eventually(async () => (await PostMcpAsync(second, "Bearer " + key)).StatusCode == HttpStatusCode.Unauthorized);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static async Task<JsonElement> CreateAgentAsync(GatewayHost gateway, string name, params string[] grants)
    {
        using var response = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name, grants }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
    }

    /// <summary>Retries a real request until it holds, within 5 seconds (the refresh interval here is 0.2 s).</summary>
    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 5 s");
            await Task.Delay(50);
        }
    }
}
