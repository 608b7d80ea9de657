using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Tests.Web.Admin.Agents;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin;

/// <summary>
/// The caller of an operation made from a console page (a circuit, whose authentication state is the one it started
/// with): their roles and standing are as they are now, in the real user store, not as they were when the page opened.
/// </summary>
public sealed class AdminActorTests : AgentConsoleTest
{
    [Fact]
    public async Task APageLeftOpen_KeepsNoRoleItsUserLost_AndADisabledUserCanDoNothingFromIt()
    {
        var users = Services.GetRequiredService<IConsoleUserStore>();
        Assert.True(await users.CreateAsync(new ConsoleUser { UserName = "root", DisplayName = "root", Source = ConsoleUserSource.Local, AssignedRoles = [ConsoleRoles.Admin], CreatedAt = DateTimeOffset.UtcNow }, CancellationToken.None));
        var id = (await users.FindAsync("root", CancellationToken.None))!.Id;

        // Another admin, so root may lose the role (the gateway is never left without one).
        Assert.True(await users.CreateAsync(new ConsoleUser { UserName = "other-admin", DisplayName = "other", Source = ConsoleUserSource.Local, AssignedRoles = [ConsoleRoles.Admin], CreatedAt = DateTimeOffset.UtcNow }, CancellationToken.None));

        // The circuit's principal: an Admin when the page opened.
        Authorization.SetAuthorized("root").SetRoles(ConsoleRoles.Admin).SetClaims(new Claim(ConsoleClaims.UserId, id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(AdminOutcome.Done, (await CreateAsync("first")).Outcome);

        Assert.Equal(AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync(id, [ConsoleRoles.Auditor], enabled: null, CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await CreateAsync("second")).Outcome);

        Assert.Equal(AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync(id, [ConsoleRoles.Admin], enabled: null, CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Done, (await CreateAsync("third")).Outcome);
        Assert.Equal(AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync(id, roles: null, enabled: false, CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await CreateAsync("fourth")).Outcome);
    }

    private async Task<AdminResult<IssuedAgentKey>> CreateAsync(string name)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AgentOperations>().CreateAsync(new AgentDraft(name, ["files/*"]), CancellationToken.None);
    }
}
