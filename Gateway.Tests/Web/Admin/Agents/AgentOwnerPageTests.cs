using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>The Agents page changes an agent's owner through the operation: an unknown user is refused under the field.</summary>
public sealed class AgentOwnerPageTests : AgentConsoleTest
{
    [Fact]
    public async Task Owner_IsChangedToAnExistingUser_OrCleared_AndAnUnknownOneIsRefused()
    {
        var store = Services.GetRequiredService<IAgentStore>();
        await store.CreateAsync("ci-bot", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None, owner: "admin");
        await Services.GetRequiredService<IConsoleUserStore>().CreateAsync(new ConsoleUser { UserName = "bob", DisplayName = "Bob", Source = ConsoleUserSource.Local }, CancellationToken.None);
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("button.edit-owner")));

        ClickUntilShown(cut, "button.edit-owner", "#edit-owner");
        cut.Find("#edit-owner").Input("nobody");
        cut.Find("#save-owner").Click();
        cut.WaitForAssertion(() => Assert.Contains("No console user named 'nobody'", HelperOf(cut, "edit-owner"), StringComparison.Ordinal));
        Assert.Equal("admin", (await store.FindAsync("ci-bot", CancellationToken.None))!.Owner);

        cut.Find("#edit-owner").Input("bob");
        cut.Find("#save-owner").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#owner-editor")));
        Assert.Equal("bob", (await store.FindAsync("ci-bot", CancellationToken.None))!.Owner);

        ClickUntilShown(cut, "button.edit-owner", "#edit-owner");
        cut.Find("#edit-owner").Input(string.Empty);
        cut.Find("#save-owner").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#owner-editor")));
        Assert.Null((await store.FindAsync("ci-bot", CancellationToken.None))!.Owner);
    }
}
