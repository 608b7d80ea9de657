using System.Text.RegularExpressions;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>The dashboard's counts come from what really happened: calls made through the endpoint, blocked, escalated, pending.</summary>
public sealed class DashboardTests
{
    private const string Key = "dashboard-agent-key-0123";

    [Fact]
    public async Task Dashboard_CountsCalls_Blocks_Escalations_AndPendingApprovals()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("files"),
            Agent("bot", Key, "files/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:no-fail:Effect"] = "block",
                ["Gateway:Policies:no-fail:Tools:0"] = "fail",
                ["Gateway:Policies:hold-add:Effect"] = "escalate",
                ["Gateway:Policies:hold-add:Tools:0"] = "add",
                ["Gateway:Approvals:HoldFor"] = "00:00:00.200",
            }));
        await gateway.WaitForToolAsync("files__echo");
        await using var agent = await gateway.ConnectAsync(Key);
        await agent.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync("files__fail", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync("files__fail", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        var held = await agent.CallToolAsync("files__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout);
        Assert.True(held.IsError);
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);

        using var browser = ConsoleBrowser.For(gateway);
        await browser.SignInAsAdminAsync();
        var html = await browser.Client.GetStringAsync("/", TestContext.Timeout);
        Assert.Equal("4", Count(html, "calls-per-minute"));
        Assert.Equal("2", Count(html, "blocked-count"));
        Assert.Equal("1", Count(html, "escalated-count"));
        Assert.Equal("1", Count(html, "pending-approvals"));
    }

    private static string Count(string html, string id) =>
        Regex.Match(html, $@"id=""{id}""[^>]*>(\d+)<").Groups[1].Value;
}
