using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// A refresh token an admin obtained: the gateway turns it into access tokens before they expire, keeps the rotated
/// refresh token (encrypted), and uses the kept one after a restart.
/// </summary>
public sealed class UpstreamRefreshTokenTests
{
    private const string AgentKey = "refresh-agent-key-0123456789";
    private const string ClientSecret = "refresh-client-secret-0123456789";

    [Fact]
    public async Task RotatedRefreshTokens_AreKeptEncrypted_AndUsedAfterARestart()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(2));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("refreshed", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        var initial = await tokens.ObtainRefreshTokenAsync(ClientSecret, url);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Settings();

        string kept;
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await AddServerAsync(gateway, tokens, url, initial);
            await using var agent = await gateway.ConnectAsync(AgentKey);
            var issuedBefore = tokens.Issued;
            for (var n = issuedBefore + 1; n <= issuedBefore + 3; n++)
            {
                await tokens.WaitForIssuedAsync(n, TestContext.Timeout);
                var echo = await agent.CallToolAsync("refreshed__echo", new Dictionary<string, object?> { ["message"] = $"refresh {n}" }, cancellationToken: TestContext.Timeout);
                Assert.NotEqual(true, echo.IsError);
            }

            Assert.DoesNotContain(gate.Requests, r => !r.Admitted);
            var stored = await gateway.Services.GetRequiredService<IServerStore>().FindAsync("refreshed", TestContext.Timeout);
            kept = stored!.Definition.Credential!.RefreshToken!;
            Assert.NotEqual(initial, kept);
            var described = await gateway.Admin.GetStringAsync("/api/v1/servers/refreshed", TestContext.Timeout);
            Assert.Contains("\"kind\":\"refreshToken\"", described, StringComparison.Ordinal);
            Assert.DoesNotContain(kept, described, StringComparison.Ordinal);
            foreach (var file in new[] { gateway.DatabasePath, gateway.DatabasePath + "-wal" }.Where(File.Exists))
            {
                Assert.DoesNotContain(kept, Encoding.UTF8.GetString(ReadShared(file)), StringComparison.Ordinal);
            }
        }

        // Every refresh token before the kept one is spent (single use, no leeway): only the kept one can work.
        await AssertServesAfterARestartAsync(settings, directory, gate);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task ARefreshUnderWayWhenTheGatewayStops_StoresItsRotatedToken_ForTheRestart()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(2));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("refreshed", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        var initial = await tokens.ObtainRefreshTokenAsync(ClientSecret, url);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Settings(("Logging:LogLevel:Gateway.Web.Credentials.OAuth", "Information"));
        var logs = new List<string>();

        var gateway = await GatewayHost.StartAsync(settings, directory, logs, Microsoft.Extensions.Logging.LogLevel.Information);
        await AddServerAsync(gateway, tokens, url, initial);

        // The health check's next refresh is answered (its refresh token spent) but the answer is kept back; the gateway
        // stops meanwhile, cancelling the health check that asked. The answer arrives while the gateway is stopping.
        tokens.HoldAnswers();
        await tokens.WaitForHeldAnswerAsync(TestContext.Timeout);
        var stopping = gateway.DisposeAsync().AsTask();
        await Eventually.TrueAsync(
            () => { lock (logs) { return logs.Any(l => l.Contains("token request(s) under way", StringComparison.Ordinal)) || stopping.IsCompleted; } },
            "the stopping gateway waits for its token request",
            TimeSpan.FromSeconds(30));
        tokens.ReleaseAnswers();
        await stopping;
        Assert.Equal(0, tokens.AbandonedAnswers);

        await AssertServesAfterARestartAsync(settings, directory, gate);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task RefusedRefreshToken_FailsTheServer_AskingForANewOne()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartHttpAsync("stale");
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:OAuth:AllowHttp"] = "true",
            ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
        });
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "stale",
            transport = "http",
            url,
            credential = new { kind = "refreshToken", tokenEndpoint = tokens.TokenEndpoint, clientId = TestTokenServer.ClientId, secret = ClientSecret, refreshToken = "not-a-refresh-token" },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("stale", out var c) && c.LastError is not null, TestContext.Timeout);
        Assert.True(gateway.Upstreams.TryGet("stale", out var connection));
        Assert.Contains("invalid_grant", connection.LastError, StringComparison.Ordinal);
        Assert.Contains("Obtain a new one", connection.LastError, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] more)
    {
        var settings = Merge(Agent("agent", AgentKey, "*/*"), new Dictionary<string, string?>
        {
            ["Gateway:OAuth:AllowHttp"] = "true",
            ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
        });
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The admin adds the upstream with the refresh token they obtained; its tool is served.</summary>
    private static async Task AddServerAsync(GatewayHost gateway, TestTokenServer tokens, string url, string refreshToken)
    {
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "refreshed",
            transport = "http",
            url,
            credential = new { kind = "refreshToken", tokenEndpoint = tokens.TokenEndpoint, clientId = TestTokenServer.ClientId, secret = ClientSecret, refreshToken },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("refreshed__echo");
    }

    /// <summary>A gateway restarted on the same database connects with the refresh token it stored and serves a call.</summary>
    private static async Task AssertServesAfterARestartAsync(IReadOnlyDictionary<string, string?> settings, string directory, HeaderGate gate)
    {
        var requestsBefore = gate.Requests.Count;
        await using var restarted = await GatewayHost.StartAsync(settings, directory);
        await restarted.WaitForToolAsync("refreshed__echo");
        await using var agent = await restarted.ConnectAsync(AgentKey);
        var echo = await agent.CallToolAsync("refreshed__echo", new Dictionary<string, object?> { ["message"] = "after restart" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("echo: after restart", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        Assert.DoesNotContain(gate.Requests.Skip(requestsBefore), r => !r.Admitted);
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
