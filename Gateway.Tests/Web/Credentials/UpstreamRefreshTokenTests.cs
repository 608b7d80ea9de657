using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.AspNetCore.Builder;
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
        await using var rig = await Rig.StartAsync();
        var (tokens, gate) = (rig.Tokens, rig.Gate);
        var settings = Settings();

        string kept;
        await using (var gateway = await GatewayHost.StartAsync(settings, rig.Directory))
        {
            await rig.AddServerAsync(gateway);
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
            Assert.NotEqual(rig.Initial, kept);
            var described = await gateway.Admin.GetStringAsync("/api/v1/servers/refreshed", TestContext.Timeout);
            Assert.Contains("\"kind\":\"refreshToken\"", described, StringComparison.Ordinal);
            Assert.DoesNotContain(kept, described, StringComparison.Ordinal);
            foreach (var file in new[] { gateway.DatabasePath, gateway.DatabasePath + "-wal" }.Where(File.Exists))
            {
                Assert.DoesNotContain(kept, Encoding.UTF8.GetString(ReadShared(file)), StringComparison.Ordinal);
            }
        }

        // Every refresh token before the kept one is spent (single use, no leeway): only the kept one can work.
        await rig.AssertServesAfterARestartAsync(settings);
    }

    [Fact]
    public async Task ARefreshUnderWayWhenTheGatewayStops_StoresItsRotatedToken_ForTheRestart()
    {
        await using var rig = await Rig.StartAsync();
        var settings = Settings(("Logging:LogLevel:Gateway.Web.Credentials.OAuth", "Information"));
        var logs = new List<string>();

        var gateway = await GatewayHost.StartAsync(settings, rig.Directory, logs, Microsoft.Extensions.Logging.LogLevel.Information);
        await rig.AddServerAsync(gateway);

        // The health check's next refresh is answered (its refresh token spent) but the answer is kept back; the gateway
        // stops meanwhile, cancelling the health check that asked. The answer arrives while the gateway is stopping.
        rig.Tokens.HoldAnswers();
        await rig.Tokens.WaitForHeldAnswerAsync(TestContext.Timeout);
        var stopping = gateway.DisposeAsync().AsTask();
        await Eventually.TrueAsync(
            () => Logged(logs, "token request(s) under way") || stopping.IsCompleted,
            "the stopping gateway waits for its token request",
            TimeSpan.FromSeconds(30));
        rig.Tokens.ReleaseAnswers();
        await stopping;
        Assert.Equal(0, rig.Tokens.AbandonedAnswers);

        await rig.AssertServesAfterARestartAsync(settings);
    }

    /// <summary>
    /// The wait for token requests under way is bounded: an authorization server that never answers holds a stopping
    /// gateway 5 s (<c>OAuthTokenClient.StopWait</c>), not until the request's own timeout, and the loss is logged.
    /// </summary>
    [Fact]
    public async Task ATokenEndpointThatNeverAnswers_HoldsAStoppingGatewayOnlyUntilTheStopWait()
    {
        await using var rig = await Rig.StartAsync();
        var logs = new List<string>();
        var gateway = await GatewayHost.StartAsync(
            Settings(("Logging:LogLevel:Gateway.Web.Credentials.OAuth", "Information")), rig.Directory, logs, Microsoft.Extensions.Logging.LogLevel.Information);
        await rig.AddServerAsync(gateway);

        rig.Tokens.HoldAnswers();
        await rig.Tokens.WaitForHeldAnswerAsync(TestContext.Timeout);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await gateway.DisposeAsync();
        clock.Stop();

        Assert.True(Logged(logs, "token request(s) under way"), "the stop waited for the token request");
        Assert.True(Logged(logs, "Stopped with a token request still under way after 5 s"), "the stop gave the request up and said so");

        // It waited the 5 s (no sooner), and gave the request up then, before its own 15 s timeout: the warning above is
        // logged only when the wait ran out, and the token server sees the request closed with its answer still held.
        // The gateway's timer and this stopwatch are different clocks: a timer may fire a few milliseconds before the
        // stopwatch has counted its whole span (seen: 4.99x s), so "no sooner" allows 0.1 s.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(4.9), $"stopped after {clock.Elapsed.TotalSeconds:0.000} s");
        await Eventually.TrueAsync(() => rig.Tokens.AbandonedAnswers == 1, "the token server sees the held request closed");
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

    private static bool Logged(List<string> logs, string text)
    {
        lock (logs)
        {
            return logs.Any(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// A rotating authorization server (2 s access tokens), an HTTP upstream that admits only its tokens for itself, a
    /// refresh token an admin obtained there, and the directory of the gateways started on them.
    /// </summary>
    private sealed class Rig(TestTokenServer tokens, WebApplication upstream, string url, HeaderGate gate, string initial) : IAsyncDisposable
    {
        public TestTokenServer Tokens => tokens;

        public HeaderGate Gate => gate;

        public string Initial => initial;

        public string Directory { get; } = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));

        public static async Task<Rig> StartAsync()
        {
            var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(2));
            var gate = new HeaderGate();
            var (upstream, url) = await StartHttpAsync("refreshed", gate: gate);
            gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
            return new Rig(tokens, upstream, url, gate, await tokens.ObtainRefreshTokenAsync(ClientSecret, url));
        }

        /// <summary>The admin adds the upstream with the refresh token they obtained; its tool is served.</summary>
        public async Task AddServerAsync(GatewayHost gateway)
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
            {
                name = "refreshed",
                transport = "http",
                url,
                credential = new { kind = "refreshToken", tokenEndpoint = tokens.TokenEndpoint, clientId = TestTokenServer.ClientId, secret = ClientSecret, refreshToken = initial },
            }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await gateway.WaitForToolAsync("refreshed__echo");
        }

        /// <summary>A gateway restarted on the same database connects with the refresh token it stored and serves a call.</summary>
        public async Task AssertServesAfterARestartAsync(IReadOnlyDictionary<string, string?> settings)
        {
            var requestsBefore = gate.Requests.Count;
            await using var restarted = await GatewayHost.StartAsync(settings, Directory);
            await restarted.WaitForToolAsync("refreshed__echo");
            await using var agent = await restarted.ConnectAsync(AgentKey);
            var echo = await agent.CallToolAsync("refreshed__echo", new Dictionary<string, object?> { ["message"] = "after restart" }, cancellationToken: TestContext.Timeout);
            Assert.Contains("echo: after restart", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
            Assert.DoesNotContain(gate.Requests.Skip(requestsBefore), r => !r.Admitted);
        }

        public async ValueTask DisposeAsync()
        {
            await upstream.DisposeAsync();
            await tokens.DisposeAsync();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
                // No gateway was started on it.
            }
        }
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
