using Gateway.Core.Pipeline;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Client;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// A request whose upstream client is closed under it (its connection closed, as an edit of the server closes it, or a
/// session bridge replaced) fails as the server's unavailability, naming it. A closed client fails what it waits for as
/// cancelled; passed on as a cancellation that neither the agent nor the deadline made, the SDK answered the agent with
/// its bare internal error ("An error occurred.").
/// </summary>
public sealed class CutOffCallTests
{
    [Fact]
    public async Task ARequestWhoseClientIsClosedUnderIt_FailsAsTheServersUnavailability()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var connection = StandaloneConnection.Start(gateway, url, TimeProvider.System, new UpstreamOptions());
        await Eventually.TrueAsync(() => connection.State == UpstreamState.Connected, "the upstream is connected");

        var call = connection.InvokeAsync((client, ct) => client.CallToolAsync("trickle", new Dictionary<string, object?> { ["bytes"] = 64, ["seconds"] = 60 }, cancellationToken: ct), TestContext.Timeout);
        await Eventually.TrueAsync(() => upstream.CallHeaders.Count == 1, "the call reached the upstream");
        await connection.DisposeAsync();

        var failure = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => call);
        Assert.Equal("Server 'raw' is unavailable: the connection closed during the call", failure.Message);
    }
}
