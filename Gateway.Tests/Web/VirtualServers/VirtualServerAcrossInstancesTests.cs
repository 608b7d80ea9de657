using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Tests.Web.Hosting;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.VirtualServers;

/// <summary>
/// Two gateway instances on one PostgreSQL database: a virtual server changed through one instance's API reaches the
/// other's sessions (its change notification, then list_changed), and one made there is served there.
/// </summary>
public sealed class VirtualServerAcrossInstancesTests
{
    private const string Key = "vs-across-key-0123456789";

    [SkippableFact]
    public async Task AChangeOnOneInstance_TellsTheOthersSessions_AndTheyListTheNewOverride()
    {
        PostgresServer.SkipUnlessAvailable();
        var name = "vsx" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        var (a, b) = await MultiInstanceTests.StartPairAsync(Merge(Http(name, url), Agent("agent", Key, $"{name}/*")));
        await using var __ = a;
        await using var ___ = b;
        await a.WaitForToolAsync($"{name}__echo");
        await b.WaitForToolAsync($"{name}__echo");

        await VirtualServerTests.PutAsync(a, "shared", new { tools = new object[] { new { server = name, tool = "echo", description = "First wording." } } });
        await Eventually.TrueAsync(() => b.Services.GetRequiredService<Gateway.Web.VirtualServers.VirtualServerDirectory>().Find("shared") is not null, "the other instance serves the new virtual server");

        var changed = 0;
        await using var onB = await VirtualServerTests.ConnectAsync(b, "shared", Key, new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    Interlocked.Increment(ref changed);
                    return ValueTask.CompletedTask;
                })],
            },
        });
        Assert.Equal("First wording.", Assert.Single(await onB.ListToolsAsync(cancellationToken: TestContext.Timeout)).Description);

        await VirtualServerTests.PutAsync(a, "shared", new { tools = new object[] { new { server = name, tool = "echo", description = "Second wording." } } });
        await Eventually.TrueAsync(() => Volatile.Read(ref changed) > 0, "the session on the other instance was told its tools changed", TimeSpan.FromSeconds(30));
        Assert.Equal("Second wording.", Assert.Single(await onB.ListToolsAsync(cancellationToken: TestContext.Timeout)).Description);
    }
}
