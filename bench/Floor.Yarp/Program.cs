// A bare reverse proxy in front of one MCP server: every request to /mcp goes to Upstream (a URL prefix) unchanged,
// streamed both ways (the SSE-framed answers included), over one pooled connection set. It stands for the cheapest a
// .NET proxy hop can be on the machine the bench runs on, so the bench can tell the hop from the gateway's own work.
using System.Net;
using Yarp.ReverseProxy.Forwarder;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddHttpForwarder();
var app = builder.Build();

var upstream = app.Configuration["Upstream"]
    ?? throw new InvalidOperationException("--Upstream=http://host:port/ is required (the prefix /mcp is appended to).");
// The handler YARP's documentation recommends for direct forwarding: no proxy, no redirects, no cookies, no
// decompression, no trace headers of its own.
using var client = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    EnableMultipleHttp2Connections = true,
    ActivityHeadersPropagator = null,
    ConnectTimeout = TimeSpan.FromSeconds(15),
});
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();

app.Map("/mcp", async context =>
{
    var error = await forwarder.SendAsync(context, upstream, client, ForwarderRequestConfig.Empty, HttpTransformer.Default);
    if (error != ForwarderError.None && !context.Response.HasStarted)
    {
        context.Response.StatusCode = StatusCodes.Status502BadGateway;
    }
});

app.Run();
