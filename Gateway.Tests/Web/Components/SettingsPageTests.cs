using Bunit;
using Gateway.Core.Approvals;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Web.Authentication;
using Gateway.Web.Console;
using Gateway.Web.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>The Settings page over a real SQLite file: adding a local user, assigning roles, the last-admin guard, and a change the audit trail refuses.</summary>
public sealed class SettingsPageTests : ConsolePageTest
{
    public SettingsPageTests()
    {
        Services.AddSingleton<ConsoleAccounts>();
        Services.AddGatewayAdminOperations();
        Services.AddSingleton(ConsoleSignInSettings.From(new ConfigurationBuilder().Build()));
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<AdminKey>();
    }

    [Fact]
    public async Task AddingAUser_ShowsTheOneTimePasswordOnce_AndRolesAreAssignedByCheckbox()
    {
        var store = Services.GetRequiredService<IConsoleUserStore>();
        await Services.GetRequiredService<ConsoleAccounts>().CreateLocalAsync("admin", "Administrator", [ConsoleRoles.Admin], CancellationToken.None);
        var cut = Render<Gateway.Web.Components.Pages.Settings>();

        cut.Find("#new-user-name").Input("bad name");
        cut.Find("#add-user-button").Click();
        cut.WaitForAssertion(() => Assert.Contains(Gateway.Core.Names.Rule, cut.Find("#new-user-name").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));

        cut.Find("#new-user-name").Input("april");
        cut.Find("#new-user-display").Input(new string('a', 257));
        cut.Find("#add-user-button").Click();
        cut.WaitForAssertion(() => Assert.Contains("at most 256", cut.Find("#new-user-display").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Null(await store.FindAsync("april", CancellationToken.None));

        cut.Find("#new-user-display").Input("April Approver");
        cut.Find(".new-role-approver input").Change(true);
        cut.Find("#add-user-button").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-password")));
        var password = cut.Find("#new-password").TextContent;
        Assert.Equal(20, password.Length);
        var april = (await store.FindAsync("april", CancellationToken.None))!;
        Assert.Equal([ConsoleRoles.Approver], april.Roles);
        Assert.True(april.MustChangePassword);
        Assert.NotNull(await Services.GetRequiredService<ConsoleAccounts>().VerifyAsync("april", password, CancellationToken.None));

        // Make April an auditor as well, by her row's checkbox.
        cut.WaitForAssertion(() => Assert.Contains("April Approver", cut.Find("#user-table").TextContent, StringComparison.Ordinal));
        var row = cut.FindAll("#user-table tbody tr").Single(r => r.TextContent.Contains("April Approver", StringComparison.Ordinal));
        row.QuerySelector(".role-auditor input")!.Change(true);
        AngleSharp.Dom.IElement AprilsRow() => cut.FindAll("#user-table tbody tr").Single(r => r.TextContent.Contains("April Approver", StringComparison.Ordinal));
        // The row is re-rendered from the store once the change is saved.
        cut.WaitForAssertion(() => Assert.Contains("April Approver", cut.Find("#user-table").TextContent, StringComparison.Ordinal));
        cut.WaitForAssertion(() => Assert.NotNull(AprilsRow().QuerySelector(".role-auditor .mud-checkbox-true")));
        Assert.Equal([ConsoleRoles.Approver, ConsoleRoles.Auditor], (await store.FindAsync("april", CancellationToken.None))!.Roles);
    }

    [Fact]
    public async Task TheOnlyAdmin_CannotBeDemoted_FromThePage()
    {
        await Services.GetRequiredService<ConsoleAccounts>().CreateLocalAsync("admin", "Administrator", [ConsoleRoles.Admin], CancellationToken.None);
        var cut = Render<Gateway.Web.Components.Pages.Settings>();

        cut.Find("#user-table .role-admin input").Change(false);
        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message!.Contains("only admin", StringComparison.Ordinal)));
        Assert.Equal([ConsoleRoles.Admin], (await Services.GetRequiredService<IConsoleUserStore>().FindAsync("admin", CancellationToken.None))!.Roles);
    }

    // A console change whose audit entry cannot be written (a trigger refuses admin_change entries in the real SQLite
    // file; ConsolePageTest audits admin changes as the gateway does) is not made, and the page says so instead of
    // ending the user's connection with an unhandled exception.
    [Fact]
    public async Task AddingAUser_WhoseEntryIsRefused_IsNotMade_AndThePageSaysWhy()
    {
        await Services.GetRequiredService<ConsoleAccounts>().CreateLocalAsync("admin", "Administrator", [ConsoleRoles.Admin], CancellationToken.None);
        await using (var db = await Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("CREATE TRIGGER RefuseAdminChanges BEFORE INSERT ON AuditEntries WHEN NEW.Kind = 'admin_change' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        }

        var cut = Render<Gateway.Web.Components.Pages.Settings>();
        cut.Find("#new-user-name").Input("april");
        cut.Find("#new-user-display").Input("April");
        cut.Find("#add-user-button").Click();

        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message!.Contains("audit entry could not be written", StringComparison.Ordinal)));
        Assert.Null(await Services.GetRequiredService<IConsoleUserStore>().FindAsync("april", CancellationToken.None));
        Assert.Empty(cut.FindAll("#new-password"));

        // The page still works: once the trail accepts entries, the same change is made.
        await using (var db = await Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER RefuseAdminChanges;");
        }

        cut.Find("#add-user-button").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-password")));
        Assert.NotNull(await Services.GetRequiredService<IConsoleUserStore>().FindAsync("april", CancellationToken.None));
    }
}
