using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Provisioning;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Gateway.Web.Agents;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>The console's agent changes go through the operations: configuration-managed agents are refused there too.</summary>
public sealed class AgentOperationsConsoleTests : AgentConsoleTest
{
    [Fact]
    public async Task AnAgentTakenOverByConfiguration_IsRefusedInTheConsole_AndKeepsItsKey()
    {
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.Find("#agent-name").Input("ci-bot");
        cut.Find("#agent-grants").Input("files/*");
        cut.Find("#create").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-key")));
        var key = cut.Find("#new-key").TextContent;
        cut.FindAll("#issued-key button").Last().Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#new-key")));

        // Configuration declares the same name while the page is open: it takes the agent over (the page still shows its buttons).
        await Services.GetRequiredService<IProvisioningStore>().ApplyAsync(new ProvisioningSpec([], [new ProvisionedAgent("ci-bot", ApiKeys.Hash(key), ["files/*"])]), CancellationToken.None);
        await Services.GetRequiredService<AgentDirectoryProvider>().ReloadAsync(CancellationToken.None);

        cut.Find("button.rotate").Click();
        cut.WaitForAssertion(() => Assert.Contains("managed by configuration", cut.Find("#agent-notice").TextContent, StringComparison.Ordinal));
        Assert.Empty(cut.FindAll("#new-key"));
        Assert.Equal("ci-bot", Services.GetRequiredService<AgentDirectoryProvider>().Current.Authenticate(key)?.Name);

        var operations = Services.GetRequiredService<AgentOperations>();
        Assert.Equal(AdminOutcome.Managed, (await operations.UpdateAsync("ci-bot", new AgentChange(Enabled: false), CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Managed, (await operations.RevokeKeysAsync("ci-bot", CancellationToken.None)).Outcome);
        Assert.True((await Services.GetRequiredService<IAgentStore>().FindAsync("ci-bot", CancellationToken.None))!.Enabled);
    }
}
