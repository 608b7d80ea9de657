using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// The health check of a connected upstream, on a fake clock against a hand-written HTTP upstream that counts pings:
/// an answered call is proof of life, so while calls answer no ping is sent; an upstream nobody calls is pinged an
/// interval after its last answer; one that went away after answering is still found down by the probe; and one that
/// restarted and refuses the gateway's session is reconnected by the probe alone, with no call to find it.
/// </summary>
public sealed class HealthProbeTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WhileCallsAnswer_NoPingIsSent_AndAnUpstreamNobodyCallsIsPingedAgain()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var connection = Connect(gateway, url, time);
        await Eventually.TrueAsync(() => connection.State == UpstreamState.Connected, "the upstream is connected");

        // A call every quarter interval: each health check finds an answer newer than the last proof.
        await Eventually.TrueAsync(() => CallThenAdvanceAsync(connection, time, () => connection.ProbesSkipped >= 1), "a health check takes a call's answer for proof");
        var pings = upstream.Pings;
        await Eventually.TrueAsync(() => CallThenAdvanceAsync(connection, time, () => connection.ProbesSkipped >= 4), "three more health checks pass on answers");
        Assert.Equal(pings, upstream.Pings);

        // Calls stop: the next check pings.
        await Eventually.TrueAsync(() => { time.Advance(Interval / 4); return upstream.Pings > pings; }, "the upstream nobody calls is pinged");
        Assert.Equal(UpstreamState.Connected, connection.State);
    }

    [Fact]
    public async Task AnUpstreamThatWentAwayAfterAnsweringACall_IsStillFoundDownByTheProbe()
    {
        var (app, _, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var __ = app;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var connection = Connect(gateway, url, time);
        await Eventually.TrueAsync(() => connection.State == UpstreamState.Connected, "the upstream is connected");

        time.Advance(Interval / 2);
        await EchoAsync(connection);
        await app.StopAsync(TestContext.Timeout);

        // Nothing calls it any more: the answer stands in for one check at most, then the probe finds it gone.
        await Eventually.TrueAsync(() => { time.Advance(Interval / 4); return connection.State != UpstreamState.Connected; }, "the dead upstream is found down");
        Assert.NotNull(connection.LastError);
    }

    [Fact]
    public async Task AnUpstreamThatForgotTheSession_IsReconnectedByTheProbeAlone()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false, sessions: true);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var connection = Connect(gateway, url, time);
        await Eventually.TrueAsync(() => connection.State == UpstreamState.Connected, "the upstream is connected");
        Assert.Equal(1, upstream.SessionsOpened);

        // The upstream restarts; nobody calls it. Its answer to the probe (HTTP 400 with a JSON-RPC error) is an answer,
        // and before 2026-12-03 it passed for proof of life: the session stayed refused until the gateway restarted.
        upstream.ForgetSessions();
        await Eventually.TrueAsync(
            () =>
            {
                time.Advance(Interval / 4);
                return upstream.SessionsOpened == 2 && connection.State == UpstreamState.Connected;
            },
            "the probe's refused session makes the gateway open a new one");
        await EchoAsync(connection);
    }

    private static async Task<bool> CallThenAdvanceAsync(UpstreamConnection connection, FakeTimeProvider time, Func<bool> done)
    {
        await EchoAsync(connection);
        time.Advance(Interval / 4);
        return done();
    }

    private static Task EchoAsync(UpstreamConnection connection) =>
        connection.InvokeAsync((client, ct) => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: ct), TestContext.Timeout);

    private static UpstreamConnection Connect(GatewayHost gateway, string url, TimeProvider time) =>
        StandaloneConnection.Start(gateway, url, time, new UpstreamOptions { HealthCheckInterval = Interval });
}
