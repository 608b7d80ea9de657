using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using Gateway.Web.Upstreams.Limits;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Web.Upstreams.Limits;

/// <summary>
/// The pacer over real sockets (a port nobody listens on, a loopback Kestrel), on a fake clock: a GET after a failed
/// one, or soon after a successful one whose stream ended at once, waits, doubling to the cap; a stream that lasts
/// resets it, and other requests never wait.
/// </summary>
public sealed class StandaloneStreamPacerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AfterAConnectionFailure_TheNextGetWaits_DoublingToTheCap_AndAPostDoesNot()
    {
        var url = $"http://127.0.0.1:{UnusedPort()}/mcp";
        var pacer = Pacer();
        using var client = new HttpClient(pacer);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url, TestContext.Timeout));

        foreach (var pause in new[] { 1, 2, 3, 3 })
        {
            Assert.Equal(TimeSpan.FromSeconds(pause), pacer.PauseBeforeNextGet);
            var next = client.GetAsync(url, TestContext.Timeout);
            _time.Advance(TimeSpan.FromSeconds(pause) - TimeSpan.FromMilliseconds(1));
            Assert.False(next.IsCompleted, $"the GET went out before its {pause} s pause ended");

            // Meanwhile a POST (a call) goes out at once: it fails here only because nobody listens.
            await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(url, new StringContent("{}"), TestContext.Timeout));

            _time.Advance(TimeSpan.FromMilliseconds(1));
            await Assert.ThrowsAsync<HttpRequestException>(() => next);
        }
    }

    [Fact]
    public async Task AnErrorStatus_PausesTheNextGet_AndASuccessResetsThePause()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapGet("/ok", () => Results.Ok());
        app.MapGet("/fail", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync(TestContext.Timeout);
        var root = app.Urls.First().TrimEnd('/');
        var pacer = Pacer();
        using var client = new HttpClient(pacer);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(root + "/fail", TestContext.Timeout)).StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), pacer.PauseBeforeNextGet);
        var ok = client.GetAsync(root + "/ok", TestContext.Timeout);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(ok.IsCompleted, "the GET after a 503 went out before its pause ended");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.OK, (await ok).StatusCode);

        // Reset once its stream has lasted the first pause: the next GET goes at once, and the one after its failure
        // waits the first pause again, not twice it.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, pacer.PauseBeforeNextGet);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(root + "/fail", TestContext.Timeout)).StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), pacer.PauseBeforeNextGet);
        var again = client.GetAsync(root + "/ok", TestContext.Timeout);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await again).StatusCode);
    }

    /// <summary>
    /// An upstream that answers the GET with success and ends the stream at once (the SDK then reopens it without pause):
    /// a GET less than the first pause after a successful one waits, doubling to the cap while the streams keep ending at
    /// once; a stream that lasted the first pause lets the next GET go at once.
    /// </summary>
    [Fact]
    public async Task StreamsThatEndAtOnce_PauseTheNextGet_DoublingToTheCap_UntilOneLasts()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapGet("/brief", () => Results.Text("id: 1\nretry: 0\ndata: {}\n\n", "text/event-stream"));
        await app.StartAsync(TestContext.Timeout);
        var url = app.Urls.First().TrimEnd('/') + "/brief";
        var pacer = Pacer();
        using var client = new HttpClient(pacer);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url, TestContext.Timeout)).StatusCode);
        foreach (var pause in new[] { 1, 2, 3, 3 })
        {
            // What the pacer decided, read before the GET (whose pause the sockets' own timing could not show).
            Assert.Equal(TimeSpan.FromSeconds(pause), pacer.PauseBeforeNextGet);
            var next = client.GetAsync(url, TestContext.Timeout);
            _time.Advance(TimeSpan.FromSeconds(pause) - TimeSpan.FromMilliseconds(1));
            Assert.False(next.IsCompleted, $"the GET went out before its {pause} s pause ended");
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(HttpStatusCode.OK, (await next).StatusCode);
        }

        // The last stream lasted the first pause: the next GET goes at once.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, pacer.PauseBeforeNextGet);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url, TestContext.Timeout)).StatusCode);
    }

    private StandaloneStreamPacer Pacer() => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), _time) { InnerHandler = new SocketsHttpHandler() };

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
