using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gateway.Tests.Support;
using Gateway.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.KeepAlive;

/// <summary>
/// Reverse proxies cut a response that stays silent longer than their read timeout (nginx: 60 s by default). An agent's
/// idle event streams are silent by nature, and a 2025-11-25 session's standalone stream cannot be opened again once
/// cut: the SDK's server refuses a session's second one with HTTP 400, so the session would hear no more list changes.
/// The gateway sends a comment on them (<c>Gateway:Mcp:StreamKeepAlive</c>). Here HAProxy, which cuts after 4 s of
/// silence, stands in front of the gateway.
/// </summary>
public sealed class EventStreamKeepAliveTests
{
    private const string Key = "keepalive-agent-key-0123456789";
    // Four times the longest silence the gateway leaves (1 s): a loaded machine may run the gateway's timer late.
    private static readonly TimeSpan ProxyIdleTimeout = TimeSpan.FromSeconds(4);

    [SkippableFact]
    public async Task AnIdleSessionsStream_ThroughAProxyThatCutsSilence_StaysOpen_AndCarriesTheNextListChange()
    {
        var (upstream, url) = await StartHttpAsync("remote");
        await using var _ = upstream;
        await using var gateway = await StartGatewayAsync(url);
        using var proxy = await Balancer.StartAsync([gateway.BaseUri], ProxyIdleTimeout);

        var changes = Channel.CreateUnbounded<string>();
        await using var agent = await GatewayHost.ConnectAsync(new Uri(proxy.BaseUri, "/mcp"), Key, GatewayHost.Hearing(NotificationMethods.ToolListChangedNotification, changes.Writer));

        // The condition under test, not a synchronisation: the session stays idle for longer than the proxy allows.
        await Task.Delay(ProxyIdleTimeout * 1.5);

        // An upstream adds a tool (a call of another client, straight to the gateway): the idle session hears it.
        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        Assert.Equal(NotificationMethods.ToolListChangedNotification, await ReadWithinAsync(changes.Reader, TimeSpan.FromSeconds(20), "tools/list_changed on the idle session's stream"));
    }

    [SkippableFact]
    public async Task AnIdleListenStream_ThroughAProxyThatCutsSilence_StaysOpen_AndCarriesTheNextListChange()
    {
        var (upstream, url) = await StartHttpAsync("remote");
        await using var _ = upstream;
        await using var gateway = await StartGatewayAsync(url);
        using var proxy = await Balancer.StartAsync([gateway.BaseUri], ProxyIdleTimeout);

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var (response, reader) = await ListenStreamTests.ListenAsync(http, gateway, Key, "listen-1", endpoint: new Uri(proxy.BaseUri, "/mcp"));
        using var listening = response;
        using var lines = reader;
        Assert.Equal("notifications/subscriptions/acknowledged", (await ListenStreamTests.NextMessageAsync(reader))["method"]?.GetValue<string>());

        await Task.Delay(ProxyIdleTimeout * 1.5);

        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        JsonObject changed = await ListenStreamTests.NextMessageAsync(reader);
        Assert.Equal("notifications/tools/list_changed", changed["method"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("00:00:00.999")]
    [InlineData("00:10:00.001")]
    public async Task AKeepAliveOutsideItsRange_StopsTheStart(string value)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            GatewayHost.StartAsync(Merge(Agent("agent", Key, "remote/*"), new Dictionary<string, string?> { ["Gateway:Mcp:StreamKeepAlive"] = value })));
        Assert.Contains("Gateway:Mcp:StreamKeepAlive must be 0 (none) or between 1 second and 10 minutes", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:01")]
    [InlineData("00:10:00")]
    public async Task AKeepAliveAtItsEdges_OrNone_IsTaken(string value)
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("agent", Key, "remote/*"), new Dictionary<string, string?> { ["Gateway:Mcp:StreamKeepAlive"] = value }));
        Assert.Equal(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), gateway.Services.GetRequiredService<IOptionsMonitor<GatewayOptions>>().CurrentValue.Mcp.StreamKeepAlive);
    }

    private static Task<GatewayHost> StartGatewayAsync(string url) =>
        GatewayHost.StartAsync(Merge(Http("remote", url), Agent("agent", Key, "remote/*"), new Dictionary<string, string?>
        {
            // A comment after 0.5 s of silence, well inside the proxy's 4 s.
            ["Gateway:Mcp:StreamKeepAlive"] = "00:00:01",
        }));

    private static async Task<T> ReadWithinAsync<T>(ChannelReader<T> reader, TimeSpan within, string what)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        wait.CancelAfter(within);
        try
        {
            return await reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Timeout.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"No {what} within {within.TotalSeconds} s.");
        }
    }
}
