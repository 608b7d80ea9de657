using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using Gateway.Tests.Web.Hosting;
using Gateway.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// The gateway opens its port only once the upstreams it started connecting have answered (or their bounded wait has
/// passed): an agent that connects as soon as the port opens finds their tools. The wait sits in front of the server
/// itself, so the host builds its request pipeline meanwhile.
/// </summary>
public sealed class ListenAfterUpstreamsTests
{
    [Fact]
    public async Task ThePort_OpensOnlyOnceTheUpstreamsHandshakeIsAnswered()
    {
        var (upstream, entered, release) = await StartHeldUpstreamAsync();
        await using var running = upstream;

        var port = FreePort();
        var log = new List<string>();
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            await using var gateway = Program.CreateApp(
            [
                $"--urls=http://127.0.0.1:{port}",
                "--environment=Production",
                $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Gateway.Web.Hosting.CompactBeforeListening=Debug",
                "--Gateway:Servers:held:Transport=http",
                $"--Gateway:Servers:held:Url={upstream.Urls.First()}/mcp",
            ],
            b => b.Logging.AddProvider(new ListLoggerProvider(log, LogLevel.Debug)));
            var starting = gateway.StartAsync(TestContext.Timeout);

            await entered.Task.WaitAsync(TestContext.Timeout);
            Assert.False(starting.IsCompleted, "the gateway started while its upstream's handshake was unanswered");
            Assert.False(await ListensAsync(port), "the gateway's port opened while its upstream's handshake was unanswered");

            // The start's garbage is collected after the wait, the handshakes' included, and before the port opens.
            Assert.DoesNotContain(ListLoggerProvider.Snapshot(log), e => e.StartsWith(CompactBeforeListeningTests.Collected, StringComparison.Ordinal));

            release.SetResult();
            await starting.WaitAsync(TestContext.Timeout);
            Assert.Single(ListLoggerProvider.Snapshot(log), e => e.StartsWith(CompactBeforeListeningTests.Collected, StringComparison.Ordinal));
            Assert.True(await ListensAsync(port), "the gateway's port did not open once the handshake was answered");
            await gateway.StopAsync(TestContext.Timeout);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    // Gateway:Upstreams:StartupWait bounds the wait: 0 listens at once, the handshake still held; beyond 5 minutes the
    // start is refused with the key's name.
    [Fact]
    public async Task AStartupWaitOfZero_ListensAtOnce_AndOneBeyondItsBoundIsRefused()
    {
        var (upstream, entered, release) = await StartHeldUpstreamAsync();
        await using var running = upstream;
        var port = FreePort();
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string[] Args(string wait) =>
            [
                $"--urls=http://127.0.0.1:{port}",
                "--environment=Production",
                $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}",
                "--Logging:LogLevel:Default=Warning",
                "--Gateway:Servers:held:Transport=http",
                $"--Gateway:Servers:held:Url={upstream.Urls.First()}/mcp",
                $"--Gateway:Upstreams:StartupWait={wait}",
            ];

            var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
            {
                await using var refused = Program.CreateApp(Args("00:05:01"));
                await refused.StartAsync(TestContext.Timeout);
            });
            Assert.Contains("Gateway:Upstreams:StartupWait must be between 0 and 5 minutes.", error.Message, StringComparison.Ordinal);

            await using var gateway = Program.CreateApp(Args("00:00:00"));
            await gateway.StartAsync(TestContext.Timeout);
            await entered.Task.WaitAsync(TestContext.Timeout);
            Assert.True(await ListensAsync(port), "the gateway did not listen while its upstream's handshake was unanswered");
            release.SetResult();
            await gateway.StopAsync(TestContext.Timeout);
        }
        finally
        {
            release.TrySetResult();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    // An upstream that holds its answer to the gateway's first request (the handshake) until the test releases it.
    private static async Task<(WebApplication Upstream, TaskCompletionSource Entered, TaskCompletionSource Release)> StartHeldUpstreamAsync()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamBuilder = WebApplication.CreateSlimBuilder();
        upstreamBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        var upstream = upstreamBuilder.Build();
        upstream.MapPost("/mcp", async (HttpContext context) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        });
        await upstream.StartAsync(TestContext.Timeout);
        return (upstream, entered, release);
    }

    private static int FreePort() => FreePorts.Next();

    private static async Task<bool> ListensAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Timeout);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
