using System.Text.RegularExpressions;
using Gateway.Core.Approvals;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>
/// The dashboard's counts come from what really happened: calls made through the endpoint, blocked by policy, refused
/// (not granted or unknown), escalated and still waiting; the decision then shows in the approvals' history.
/// </summary>
public sealed class DashboardTests
{
    private const string Key = "dashboard-agent-key-0123";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Dashboard_CountsCalls_BlocksApartFromRefusals_AndAHeldCallWhileItWaits(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(
            Stdio("files"),
            Agent("bot", Key, "files/echo", "files/fail", "files/add"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:no-fail:Effect"] = "block",
                ["Gateway:Policies:no-fail:Tools:0"] = "fail",
                ["Gateway:Policies:hold-add:Effect"] = "escalate",
                ["Gateway:Policies:hold-add:Tools:0"] = "add",
            }));
        await gateway.WaitForToolAsync("files__echo");
        await using var agent = await gateway.ConnectAsync(Key);
        await agent.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync("files__fail", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync("files__fail", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);

        // Not granted (a tool of the server the agent has no grant for) and unknown: the same refusal to the agent.
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => agent.CallToolAsync("files__slow", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout).AsTask());
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => agent.CallToolAsync("files__no_such_tool", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout).AsTask());

        // A call held for approval, still waiting while the dashboard is read.
        var held = agent.CallToolAsync("files__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask();
        var store = gateway.Services.GetRequiredService<IApprovalStore>();
        Approval? approval = null;
        await Eventually.TrueAsync(async () => (approval = (await store.ListAsync(ApprovalStatus.Pending, 10, TestContext.Timeout)).SingleOrDefault()) is not null, "the call is held");
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);

        using var browser = ConsoleBrowser.For(gateway);
        await browser.SignInAsAdminAsync();
        var html = await browser.Client.GetStringAsync("/", TestContext.Timeout);
        Assert.False(held.IsCompleted);
        Assert.Equal("5", Count(html, "calls-per-minute"));
        Assert.Equal("2", Count(html, "blocked-count"));
        Assert.Equal("2", Count(html, "refused-count"));
        Assert.Equal("1", Count(html, "escalated-count"));
        Assert.Equal("1", Count(html, "pending-approvals"));
        Assert.Equal("0", Count(html, "failed-count"));
        Assert.Contains("approval_requested", Section(html, "recent-activity"), StringComparison.Ordinal);

        // Approved: it runs, is no longer pending, is still one escalation, and the decision is in the history.
        Assert.Equal(DecisionResult.Decided, await gateway.Services.GetRequiredService<ApprovalGate>().DecideAsync(approval!.Id, true, "admin", "fine by me", TestContext.Timeout));
        Assert.NotEqual(true, (await held.WaitAsync(TestContext.Timeout)).IsError);
        html = await browser.Client.GetStringAsync("/", TestContext.Timeout);
        Assert.Equal("1", Count(html, "escalated-count"));
        Assert.Equal("0", Count(html, "pending-approvals"));

        var history = Section(await browser.Client.GetStringAsync("/approvals", TestContext.Timeout), "approval-history");
        Assert.Contains(approval.Id, history, StringComparison.Ordinal);
        Assert.Contains("approved, ran", history, StringComparison.Ordinal);
        Assert.Contains("fine by me", history, StringComparison.Ordinal);
        Assert.Contains("files / add", history, StringComparison.Ordinal);
    }

    private static string Count(string html, string id) =>
        Regex.Match(html, $@"id=""{id}""[^>]*>(\d+)<").Groups[1].Value;

    // From the element with the id to the end of the page: enough to tell what is in that part.
    private static string Section(string html, string id)
    {
        var at = html.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no element '{id}' on the page");
        return html[at..];
    }
}
