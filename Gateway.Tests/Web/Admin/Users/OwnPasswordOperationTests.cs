using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Tests.Web.Components;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Users;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin.Users;

/// <summary>
/// A user's own password change is an operation like the others: any role may change their own, the rules answer by
/// field, and a user of the identity provider (no local account) is told so under the current-password field.
/// </summary>
public sealed class OwnPasswordOperationTests : ConsolePageTest
{
    private const string OneTime = "one-time-password-0123";
    private const string Chosen = "correct horse battery staple";

    public OwnPasswordOperationTests()
        : base("april", ConsoleRoles.Approver)
    {
        Services.AddSingleton<ConsoleAccounts>();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task AnyRole_ChangesTheirOwnPassword_WithFieldErrors_UntilItIsValid()
    {
        await Services.GetRequiredService<ConsoleAccounts>().CreateLocalAsync("april", "April", [ConsoleRoles.Approver], CancellationToken.None, OneTime);
        var april = (await Services.GetRequiredService<IConsoleUserStore>().FindAsync("april", CancellationToken.None))!;
        Authorization.SetClaims(new Claim(ConsoleClaims.UserId, april.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var operations = Services.GetRequiredService<ConsoleUserOperations>();

        var wrong = await operations.ChangeOwnPasswordAsync(new PasswordChange { CurrentPassword = "not it", NewPassword = Chosen, ConfirmPassword = Chosen }, CancellationToken.None);
        Assert.Equal(AdminOutcome.Invalid, wrong.Outcome);
        Assert.Equal(["The current password is not correct."], wrong.Errors["currentPassword"]);

        // One character under the minimum is refused under its own field.
        var shortOne = new string('x', PasswordChangeValidator.MinimumLength - 1);
        var tooShort = await operations.ChangeOwnPasswordAsync(new PasswordChange { CurrentPassword = OneTime, NewPassword = shortOne, ConfirmPassword = shortOne }, CancellationToken.None);
        Assert.Equal(AdminOutcome.Invalid, tooShort.Outcome);
        Assert.True(tooShort.Errors.ContainsKey("newPassword"));

        var changed = await operations.ChangeOwnPasswordAsync(new PasswordChange { CurrentPassword = OneTime, NewPassword = Chosen, ConfirmPassword = Chosen }, CancellationToken.None);
        Assert.True(changed.IsDone);
        Assert.False(changed.Value!.MustChangePassword);
        Assert.NotNull(await Services.GetRequiredService<ConsoleAccounts>().VerifyAsync("april", Chosen, CancellationToken.None));
    }

    [Fact]
    public async Task AUserOfTheIdentityProvider_HasNoPasswordHere()
    {
        var result = await Services.GetRequiredService<ConsoleUserOperations>().ChangeOwnPasswordAsync(new PasswordChange { CurrentPassword = "x", NewPassword = Chosen, ConfirmPassword = Chosen }, CancellationToken.None);
        Assert.Equal(AdminOutcome.Invalid, result.Outcome);
        Assert.Contains("identity provider", result.Errors["currentPassword"][0], StringComparison.Ordinal);
    }
}
