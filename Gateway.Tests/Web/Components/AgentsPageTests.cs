using Bunit;
using Gateway.Core.Agents;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Gateway.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Web.Components;

/// <summary>The Agents page over real services and a real SQLite file: validation next to each field, a key shown once that works at once, rotation.</summary>
public sealed class AgentsPageTests : ConsolePageTest
{
    public AgentsPageTests()
    {
        AddUpstreams(); // the grant picker lists the known servers
        Services.AddSingleton(sp => new AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<Gateway.Data.Stores.IDatabaseChanges>(), NullLogger<AgentDirectoryProvider>.Instance));
        Services.AddGatewayAdminOperations();
        Services.AddGatewayLimits(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SignedInUserIsAConsoleUserAsync();
    }

    [Fact]
    public async Task InvalidAgent_ShowsEveryErrorNextToItsField_AndCreatesNothing()
    {
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#agent-table")));

        cut.Find("#agent-name").Input("bad name!");
        cut.Find("#agent-grants").Input("nope");
        cut.Find("#agent-tags").Input("ok, not ok");
        cut.Find("#create").Click();

        // Each message is rendered as the helper text of its own field.
        cut.WaitForAssertion(() => Assert.Contains("Invalid grant 'nope'", cut.Markup, StringComparison.Ordinal));
        string HelperOf(string id) => cut.Find("#" + id).Closest(".mud-input-control")!.TextContent;
        Assert.Contains(Gateway.Core.Names.Rule, HelperOf("agent-name"), StringComparison.Ordinal);
        Assert.Contains("Invalid grant 'nope'", HelperOf("agent-grants"), StringComparison.Ordinal);
        Assert.Contains("'not ok'", HelperOf("agent-tags"), StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("#issued-key"));
        Assert.Empty(await Services.GetRequiredService<IAgentStore>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task NewAgent_KeyIsShownOnce_WithClientConfigs_AndWorksAtOnce_AndRotationReplacesIt()
    {
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.Find("#agent-name").Input("claude-desktop");
        cut.Find("#agent-grants").Input("files/*:read\ngithub/list_*");
        cut.Find("#agent-tags").Input("devs");
        cut.Find("#create").Click();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-key")));
        var key = cut.Find("#new-key").TextContent;
        Assert.True(ApiKeys.HasValidChecksum(key));
        Assert.Equal(3, cut.FindAll(".client-config").Count(c => c.TextContent.Contains(key, StringComparison.Ordinal)));
        var directory = Services.GetRequiredService<AgentDirectoryProvider>();
        Assert.Equal("claude-desktop", directory.Current.Authenticate(key)?.Name);
        var stored = (await Services.GetRequiredService<IAgentStore>().FindAsync("claude-desktop", CancellationToken.None))!;
        Assert.Equal(["files/*:read", "github/list_*"], stored.Grants);
        Assert.Equal(["devs"], stored.Tags);
        cut.WaitForAssertion(() => Assert.DoesNotContain(key, cut.Find("#agent-table").TextContent, StringComparison.Ordinal));

        cut.Find("button.rotate").Click();
        cut.WaitForAssertion(() => Assert.NotEqual(key, cut.Find("#new-key").TextContent));
        var rotated = cut.Find("#new-key").TextContent;
        Assert.Null(directory.Current.Authenticate(key));
        Assert.Equal("claude-desktop", directory.Current.Authenticate(rotated)?.Name);

        // The owner is who created it; revoking takes two clicks and locks the agent out.
        Assert.Equal("admin", stored.Owner);
        cut.Find("button.revoke").Click();
        cut.WaitForAssertion(() => Assert.Equal("Confirm revoke", cut.Find("button.revoke").TextContent.Trim()));
        Assert.NotNull(directory.Current.Authenticate(rotated));
        cut.Find("button.revoke").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("button.revoke")));
        Assert.Null(directory.Current.Authenticate(rotated));
    }

    [Fact]
    public async Task EditingGrants_ValidatesNextToTheField_ThenAppliesAtOnce()
    {
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.Find("#agent-name").Input("ci-bot");
        cut.Find("#agent-grants").Input("files/*:read");
        cut.Find("#create").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-key")));
        var key = cut.Find("#new-key").TextContent;
        var directory = Services.GetRequiredService<AgentDirectoryProvider>();
        Assert.False(directory.Current.Authenticate(key)!.Grants.Allows("github", "create_issue", Gateway.Core.Policy.AccessClass.Write, DateTimeOffset.UtcNow));

        cut.Find("button.edit-grants").Click();
        cut.WaitForAssertion(() => Assert.Equal("files/*:read", cut.Find("#edit-grants").GetAttribute("value")));
        cut.Find("#edit-grants").Input("files/*:read\nnot a grant");
        cut.Find("#save-grants").Click();
        cut.WaitForAssertion(() => Assert.Contains("Invalid grant 'not a grant'", cut.Find("#edit-grants").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Equal(["files/*:read"], (await Services.GetRequiredService<IAgentStore>().FindAsync("ci-bot", CancellationToken.None))!.Grants);

        cut.Find("#edit-grants").Input("files/*:read\ngithub/create_*:write");
        cut.Find("#save-grants").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#grants-editor")));
        Assert.Equal(["files/*:read", "github/create_*:write"], (await Services.GetRequiredService<IAgentStore>().FindAsync("ci-bot", CancellationToken.None))!.Grants);
        Assert.True(directory.Current.Authenticate(key)!.Grants.Allows("github", "create_issue", Gateway.Core.Policy.AccessClass.Write, DateTimeOffset.UtcNow));
        cut.WaitForAssertion(() => Assert.Contains("github/create_*:write", cut.Find("#agent-table").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LongLists_ArePagedAndSearchedOnTheServer()
    {
        var store = Services.GetRequiredService<IAgentStore>();
        for (var i = 0; i < 60; i++)
        {
            await store.CreateAsync($"bot-{i:00}", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None);
        }

        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.Equal(25, cut.FindAll("#agent-table tbody tr").Count));
        Assert.Contains("bot-00", cut.Find("#agent-table tbody").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("bot-30", cut.Find("#agent-table tbody").TextContent, StringComparison.Ordinal);
        Assert.Contains("1-25 of 60", cut.Find("#agent-table").TextContent, StringComparison.Ordinal);

        cut.Find("#agent-search").Input("bot-3");
        cut.WaitForAssertion(() => Assert.Equal(10, cut.FindAll("#agent-table tbody tr").Count), TimeSpan.FromSeconds(10));
        Assert.All(cut.FindAll("#agent-table tbody tr"), row => Assert.Contains("bot-3", row.TextContent, StringComparison.Ordinal));
    }
}
