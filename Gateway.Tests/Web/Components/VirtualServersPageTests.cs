using Bunit;
using Gateway.Core.VirtualServers;
using Gateway.Web.Components.Pages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The virtual servers page over a real SQLite file: configuration's is shown as managed, a new one is typed one tool,
/// prompt and resource a line, refused by line when two tools or prompts share a name or two resources a URI, then saved
/// through the operations layer and in force at once.
/// </summary>
public sealed class VirtualServersPageTests : ConsolePageTest
{
    public VirtualServersPageTests()
    {
        Services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:VirtualServers:from-config:Tools:0:Server"] = "github",
            ["Gateway:VirtualServers:from-config:Tools:0:Tool"] = "search_issues",
        }).Build());
        AddUpstreams();
        Services.AddGatewayVirtualServers();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task ConfigurationsIsReadOnly_ACollisionIsRefusedByLine_ThenTheServerIsSavedAndInForce()
    {
        var cut = Render<Gateway.Web.Components.Pages.VirtualServers>();
        var configured = cut.WaitForElement("tr.virtual-server[data-name='from-config']");
        Assert.Contains("managed by configuration", configured.TextContent, StringComparison.Ordinal);
        Assert.Empty(configured.QuerySelectorAll("button"));

        string HelperOf(string id) => cut.Find("#" + id).Closest(".mud-input-control")!.TextContent;
        cut.Find("#virtual-server-name").Input("dev");
        cut.Find("#virtual-server-tools").Input("github/search_issues -> find | Finds issues.\njira/search -> find");
        cut.Find("#virtual-server-prompts").Input("github/triage\njira/triage");
        cut.Find("#virtual-server-resources").Input("github/repo://{owner}/{name}\njira/repo://{owner}/{name}");
        cut.Find("#save-virtual-server").Click();
        cut.WaitForAssertion(() => Assert.Contains("Line 2: Name collision: 'find' (jira/search)", HelperOf("virtual-server-tools"), StringComparison.Ordinal));
        Assert.Contains("Line 2: Name collision: 'triage' (jira/triage)", HelperOf("virtual-server-prompts"), StringComparison.Ordinal);
        Assert.Contains("Line 2: URI collision: 'repo://{owner}/{name}' (jira)", HelperOf("virtual-server-resources"), StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<IVirtualServerStore>().ListAsync(CancellationToken.None));

        cut.Find("#virtual-server-tools").Input("github/search_issues -> find | Finds issues.\njira/search");
        cut.Find("#virtual-server-prompts").Input("github/triage -> gh_triage | Triage an issue.\njira/triage");
        cut.Find("#virtual-server-resources").Input("github/repo://{owner}/{name} | A repository.");
        cut.Find("#virtual-server-agents").Input("ci-bot, tag:ci");
        cut.Find("#save-virtual-server").Click();
        cut.WaitForAssertion(() => Assert.Contains("/mcp/dev", cut.Find("tr.virtual-server[data-name='dev']").TextContent, StringComparison.Ordinal));
        var stored = Assert.Single(await Services.GetRequiredService<IVirtualServerStore>().ListAsync(CancellationToken.None));
        Assert.Equal([new VirtualTool("github", "search_issues", "find", null, "Finds issues."), new VirtualTool("jira", "search")], stored.Tools);
        Assert.Equal(["ci-bot", "tag:ci"], stored.Agents);
        Assert.Equal([new VirtualPrompt("github", "triage", "gh_triage", null, "Triage an issue."), new VirtualPrompt("jira", "triage")], stored.Prompts);
        Assert.Equal([new VirtualResource("github", "repo://{owner}/{name}", null, "A repository.")], stored.Resources);

        // In force at once: the endpoint exists, and the limited agent is admitted there only.
        var directory = Services.GetRequiredService<Gateway.Web.VirtualServers.VirtualServerDirectory>();
        Assert.NotNull(directory.Find("dev"));
        var bot = new Gateway.Core.Agents.AgentIdentity(1, "ci-bot", Gateway.Core.Grants.GrantSet.Parse([], []));
        Assert.True(directory.Admits(bot, "dev"));
        Assert.False(directory.Admits(bot, null));

        cut.Find("tr.virtual-server[data-name='dev'] button.delete-virtual-server").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("tr.virtual-server[data-name='dev']")));
        Assert.Null(directory.Find("dev"));
    }

    [Fact]
    public void AnAuditor_SeesTheServers_WithoutTheEditor()
    {
        Authorization.SetRoles("Auditor");
        var cut = Render<Gateway.Web.Components.Pages.VirtualServers>();
        cut.WaitForElement("tr.virtual-server[data-name='from-config']");
        Assert.Empty(cut.FindAll("#save-virtual-server"));
    }
}
