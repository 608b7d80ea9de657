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
/// one waits, doubling to the cap, a successful GET resets it, and other requests never wait.
/// </summary>
public sealed class StandaloneStreamPacerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AfterAConnectionFailure_TheNextGetWaits_DoublingToTheCap_AndAPostDoesNot()
    {
        var url = $"http://127.0.0.1:{UnusedPort()}/mcp";
        using var client = Client();

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url, TestContext.Timeout));

        foreach (var pause in new[] { 1, 2, 3, 3 })
        {
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
        using var client = Client();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(root + "/fail", TestContext.Timeout)).StatusCode);
        var ok = client.GetAsync(root + "/ok", TestContext.Timeout);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(ok.IsCompleted, "the GET after a 503 went out before its pause ended");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.OK, (await ok).StatusCode);

        // Reset: the next GET goes at once, and the one after its failure waits the first pause again, not twice it.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(root + "/fail", TestContext.Timeout)).StatusCode);
        var again = client.GetAsync(root + "/ok", TestContext.Timeout);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await again).StatusCode);
    }

    /// <summary>
    /// GETs answered with success (here a stream that ends as soon as it opens, with an event id and <c>retry: 0</c>,
    /// which the SDK reopens without pause) go out at most <see cref="StandaloneStreamPacer.GetsPerSecond"/> a second
    /// after a burst of <see cref="StandaloneStreamPacer.GetBurst"/>; a POST never waits; a quiet second gives ten back.
    /// </summary>
    [Fact]
    public async Task Gets_GoOutAtMostTenASecondAfterABurst_WhateverTheyAnswer_AndPostsNeverWait()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapGet("/brief", () => Results.Text("id: 1\nretry: 0\ndata: {}\n\n", "text/event-stream"));
        app.MapPost("/brief", () => Results.Ok());
        await app.StartAsync(TestContext.Timeout);
        var url = app.Urls.First().TrimEnd('/') + "/brief";
        var pacer = Pacer();
        using var client = new HttpClient(pacer);

        for (var i = 0; i < StandaloneStreamPacer.GetBurst; i++)
        {
            Assert.Equal(TimeSpan.Zero, pacer.PauseBeforeNextGet);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url, TestContext.Timeout)).StatusCode);
        }

        // The burst is spent: the next GET waits a tenth of a second (the pacer's decision, read first, since the
        // sockets' own timing could not show a wait), and a POST meanwhile goes at once.
        Assert.Equal(TimeSpan.FromMilliseconds(100), pacer.PauseBeforeNextGet);
        var next = client.GetAsync(url, TestContext.Timeout);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(next.IsCompleted, "the GET went out before its place in the count");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(url, new StringContent("{}"), TestContext.Timeout)).StatusCode);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(HttpStatusCode.OK, (await next).StatusCode);

        // A quiet second: ten more may go at once, the eleventh waits again.
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < StandaloneStreamPacer.GetsPerSecond; i++)
        {
            Assert.Equal(TimeSpan.Zero, pacer.PauseBeforeNextGet);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url, TestContext.Timeout)).StatusCode);
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), pacer.PauseBeforeNextGet);

        // The gateway's own resumption of a call's stream is not held to the count.
        using var resumption = new HttpRequestMessage(HttpMethod.Get, url);
        resumption.Options.Set(StandaloneStreamPacer.CallResumption, true);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(resumption, TestContext.Timeout)).StatusCode);
    }

    private HttpClient Client() => new(Pacer());

    private StandaloneStreamPacer Pacer() => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), _time) { InnerHandler = new SocketsHttpHandler() };

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
