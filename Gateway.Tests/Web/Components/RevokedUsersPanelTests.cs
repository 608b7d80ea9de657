using Bunit;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Tests.Support;
using Gateway.Web.Components.Pages;
using Gateway.Web.Credentials.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The revoked-users panel of the Settings page over a real SQLite file: a user is revoked through the operations layer
/// (field message for a bad name), in force at once in the set every /mcp request is checked against, and restored
/// from the list (the operations' auditing is tested through the API).
/// </summary>
public sealed class RevokedUsersPanelTests : ConsolePageTest
{
    public RevokedUsersPanelTests()
    {
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task AUserIsRevoked_InForceAtOnce_AndRestoredFromTheList()
    {
        var cut = Render<RevokedUsersPanel>();
        cut.WaitForAssertion(() => Assert.Contains("No user is revoked.", cut.Find("#revoked-user-table").TextContent, StringComparison.Ordinal));

        // A name with surrounding spaces is refused on the field, and nothing is stored.
        cut.Find("#revoke-user-name").Input(" alice ");
        cut.Find("#revoke-user-button").Click();
        cut.WaitForAssertion(() => Assert.Contains("may not start or end with spaces", cut.Find("#revoke-user-name").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Empty(await Services.GetRequiredService<IRevokedUserStore>().ListAsync(CancellationToken.None));

        cut.Find("#revoke-user-name").Input("alice");
        cut.Find("#revoke-user-button").Click();
        cut.WaitForElement("tr.revoked-user[data-user='alice']");
        Assert.True(Services.GetRequiredService<UserRevocations>().IsRevoked("alice"));
        Assert.Contains("Revoked 'alice'", cut.Find("#revoked-user-notice").TextContent, StringComparison.Ordinal);

        cut.Find("tr.revoked-user[data-user='alice'] button.restore-user").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("tr.revoked-user")));
        Assert.Empty(await Services.GetRequiredService<IRevokedUserStore>().ListAsync(CancellationToken.None));
        await Services.GetRequiredService<UserRevocations>().ReloadAsync(CancellationToken.None);
        Assert.False(Services.GetRequiredService<UserRevocations>().IsRevoked("alice"));
    }

    // The revocation commits with its entry: refused by the trail (a trigger in the real SQLite file), nothing is revoked
    // and the panel says why instead of ending the user's connection with an unhandled exception.
    [Fact]
    public async Task ARevocationWhoseEntryIsRefused_IsNotMade_AndThePanelSaysWhy()
    {
        var cut = Render<RevokedUsersPanel>();
        await using (await AuditRefusals.RefuseAsync(Services.GetRequiredService<GatewayDatabase>(), AuditKinds.AdminChange, "user/bob"))
        {
            cut.Find("#revoke-user-name").Input("bob");
            cut.Find("#revoke-user-button").Click();
            cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message!.Contains("audit entry could not be written", StringComparison.Ordinal)));
        }

        Assert.Empty(await Services.GetRequiredService<IRevokedUserStore>().ListAsync(CancellationToken.None));
        Assert.False(Services.GetRequiredService<UserRevocations>().IsRevoked("bob"));
        Assert.Empty(cut.FindAll("tr.revoked-user"));
    }
}
