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

/// <summary>
/// A console change whose audit entry cannot be written (ConsolePageTest audits admin changes as the gateway does) (a trigger refuses admin_change entries in the real SQLite
/// file) is not made, and the page says so instead of ending the user's connection with an unhandled exception.
/// </summary>
public sealed class AuditRefusalTests : ConsolePageTest
{
    public AuditRefusalTests()
    {
        Services.AddSingleton<ConsoleAccounts>();
        Services.AddGatewayAdminOperations();
        Services.AddSingleton(ConsoleSignInSettings.From(new ConfigurationBuilder().Build()));
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<AdminKey>();
    }

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
