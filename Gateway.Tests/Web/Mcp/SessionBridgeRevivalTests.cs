using System.Diagnostics;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// A session that holds subscriptions gets a new bridge when its bridge ends (SessionBridges.Revival). Against an
/// upstream that forgets every new session right after its handshake, each new bridge ends at once: the gateway must
/// open them at a doubling pace (RestartDelay, then twice as long each time, up to MaxRestartDelay), not in a loop.
/// The upstream is the C# test server; it counts the sessions opened by their initialize requests.
/// </summary>
public sealed class SessionBridgeRevivalTests
{
    private const string Key = "revival-agent-key-0123456789";
    private static readonly TimeSpan Restart = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Max = TimeSpan.FromMilliseconds(1600);

    [Fact]
    public async Task ABridgeWhoseUpstreamForgetsEveryNewSession_IsOpenedAgainAtADoublingPace()
    {
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("forgetful", gate: gate);
        await using var _ = upstream;
        var settings = Merge(Http("forgetful", url), Agent("agent", Key, "forgetful/*"));
        settings["Gateway:Upstreams:RestartDelay"] = "00:00:00.200";
        settings["Gateway:Upstreams:MaxRestartDelay"] = "00:00:01.600";
        settings["Gateway:Upstreams:HealthCheckInterval"] = "00:10:00";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitForToolAsync("forgetful__echo");

        // The gateway's own connection keeps its session, if it has one (on 2026-07-28 it has none); every session
        // opened from now on is an agent session's bridge.
        var kept = gate.Requests.Select(r => r.Headers.GetValueOrDefault("Mcp-Session-Id")).OfType<string>().Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");
        await agent.SubscribeToResourceAsync("test://items/1", cancellationToken: TestContext.Timeout);

        // From now on the upstream forgets each new session once its handshake is done. The agent's next request through
        // its bridge is refused, which ends the bridge; each bridge opened again for the subscription ends the same way.
        gate.ForgetNewSessionsAfterHandshake(kept);
        var from = gate.Initializes.Count;
        try
        {
            await agent.SubscribeToResourceAsync("test://items/2", cancellationToken: TestContext.Timeout);
        }
        catch (McpException)
        {
            // Refused or not, what is under test is what the gateway does next.
        }

        await Eventually.TrueAsync(() => gate.Initializes.Count >= from + 5, "five bridges are opened again", TimeSpan.FromSeconds(60));

        // The pause before each new bridge doubles from RestartDelay up to MaxRestartDelay (0.2, 0.4, 0.8, 1.6, 1.6 s), so
        // each gap between two new sessions is at least the pause before the second one. A slow machine only widens them.
        var opened = gate.Initializes.Skip(from).Take(5).ToList();
        var gaps = opened.Zip(opened.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b)).ToList();
        var pauses = new[] { Restart * 2, Restart * 4, Max, Max };
        for (var i = 0; i < gaps.Count; i++)
        {
            Assert.True(gaps[i] >= pauses[i] * 0.95, $"gap {i + 1} between new bridges {gaps[i].TotalMilliseconds:F0} ms, expected at least {pauses[i].TotalMilliseconds:F0} ms (all: {string.Join(", ", gaps.Select(g => g.TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))})");
        }
    }
}
