using System.Net;
using System.Text;
using Gateway.Tests.Support;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream's error sent as an event stream (over real Kestrel on loopback): its first event becomes a JSON body the
/// SDK reads, and only that much is read, at most 64 KiB: an error stream that never ends its first event, or goes on,
/// is neither held in memory whole nor waited on for ever.
/// </summary>
public sealed class ErrorEventStreamHandlerTests
{
    [Fact]
    public async Task AnErrorEvent_BecomesAJsonBody_EvenWhileTheStreamStaysOpen()
    {
        await using var upstream = await StartAsync(async context =>
        {
            await context.Response.WriteAsync("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32021,\"message\":\"no\"}}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });

        using var response = await SendAsync(upstream);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("-32021", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnErrorStreamThatGoesOn_IsReadUpTo64KiB_AndNotWaitedOn()
    {
        // One event that never ends: 1 MiB of data on one line, then the stream stays open.
        await using var upstream = await StartAsync(async context =>
        {
            await context.Response.WriteAsync("data: ", context.RequestAborted);
            var chunk = new string('x', 16 * 1024);
            for (var i = 0; i < 64; i++)
            {
                await context.Response.WriteAsync(chunk, context.RequestAborted);
            }

            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });

        using var response = await SendAsync(upstream);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(64 * 1024, (await response.Content.ReadAsByteArrayAsync(TestContext.Timeout)).Length);
    }

    private static async Task<HttpResponseMessage> SendAsync(WebApplication upstream)
    {
        using var client = new HttpClient(new ErrorEventStreamHandler { InnerHandler = new SocketsHttpHandler() });
        return await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, upstream.Urls.First()) { Content = new StringContent("{}", Encoding.UTF8, "application/json") }, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
    }

    private static async Task<WebApplication> StartAsync(Func<HttpContext, Task> stream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/event-stream";
            await stream(context);
        });
        await app.StartAsync(TestContext.Timeout);
        return app;
    }
}
