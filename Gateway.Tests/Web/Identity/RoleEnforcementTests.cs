using System.Net;
using System.Net.Http.Json;
using Gateway.Core.Identity;
using Gateway.Tests.Support;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Identity;

/// <summary>
/// Roles are enforced by the server on every page and API route, not by hiding buttons: each role is signed in for
/// real and asks for what it may and may not have.
/// </summary>
public sealed class RoleEnforcementTests
{
    [Fact]
    public async Task Auditor_ReadsServersAgentsAndPolicies_ButChangesNothing_AndDecidesNothing()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var auditor = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "audrey", ConsoleRoles.Auditor);

        foreach (var page in new[] { "/", "/servers", "/agents", "/policies" })
        {
            Assert.Equal(HttpStatusCode.OK, (await auditor.Client.GetAsync(page, TestContext.Timeout)).StatusCode);
        }

        var servers = await auditor.Client.GetStringAsync("/servers", TestContext.Timeout);
        Assert.Contains("id=\"read-only\"", servers, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"register-server\"", servers, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"create-agent\"", await auditor.Client.GetStringAsync("/agents", TestContext.Timeout), StringComparison.Ordinal);
        await AssertForbiddenPageAsync(auditor, "/approvals");
        await AssertForbiddenPageAsync(auditor, "/settings");

        // The API with the console cookie: reads yes, changes and approvals no.
        Assert.Equal(HttpStatusCode.OK, (await auditor.Client.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await auditor.Client.GetAsync("/api/v1/agents", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Client.PostAsJsonAsync("/api/v1/agents", new { name = "sneaky", grants = new[] { "*" } }, TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Client.DeleteAsync("/api/v1/servers/any", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.Client.GetAsync("/api/v1/approvals", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/agents/sneaky", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task Approver_ReachesApprovals_AndIsForbiddenEverythingElse()
    {
        await using var gateway = await GatewayHost.StartAsync(Gateway.Tests.Support.Upstreams.Stdio("files"));
        using var approver = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "april", ConsoleRoles.Approver);
        using var auditor = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "audrey", ConsoleRoles.Auditor);

        Assert.Contains("Approvals", await approver.Client.GetStringAsync("/approvals", TestContext.Timeout), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await approver.Client.GetAsync("/", TestContext.Timeout)).StatusCode);
        foreach (var page in new[] { "/servers", "/agents", "/policies", "/settings" })
        {
            await AssertForbiddenPageAsync(approver, page);
        }

        Assert.Equal(HttpStatusCode.OK, (await approver.Client.GetAsync("/api/v1/approvals", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.Client.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);

        // The menu offers only what the role opens, and the dashboard shows the servers' details (transport, credential
        // kind and hint, errors) to those who may read /servers only.
        var dashboard = await approver.Client.GetStringAsync("/", TestContext.Timeout);
        Assert.Contains("href=\"/approvals\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/servers\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"server-table\"", dashboard, StringComparison.Ordinal);
        Assert.Contains("id=\"server-table\"", await auditor.Client.GetStringAsync("/", TestContext.Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChangeThroughTheApiWithTheConsoleCookie_IsAuditedUnderTheConsoleName()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var admin = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "alma", ConsoleRoles.Admin);

        using (var created = await admin.Client.PostAsJsonAsync("/api/v1/agents", new { name = "almas-bot", grants = new[] { "files/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var byKey = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "keys-bot", grants = new[] { "files/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, byKey.StatusCode);
        }

        // console:alma, as the console's own changes are named (a bare "alma" could be an agent's name in the trail).
        var changes = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == Gateway.Core.Audit.AuditKinds.AdminChange).ToList();
        Assert.Equal(["console:alma"], changes.Where(r => r.Tool == "agent/almas-bot").Select(r => r.Actor).Distinct());
        Assert.Equal(["admin-api"], changes.Where(r => r.Tool == "agent/keys-bot").Select(r => r.Actor).Distinct());
    }

    [Fact]
    public async Task RoleChanges_AndDisabling_ApplyAtTheNextRequest_NotAtCookieExpiry()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var user = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "nobody");
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        var id = (await gateway.Services.GetRequiredService<IConsoleUserStore>().FindAsync("nobody", TestContext.Timeout))!.Id;

        // No role: signed in, yet nothing opens (deny by default), not even the dashboard or the API.
        await AssertForbiddenPageAsync(user, "/");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.Client.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);

        Assert.Null(await accounts.SetRolesAsync(id, [ConsoleRoles.Approver], TestContext.Timeout));
        Assert.Equal(HttpStatusCode.OK, (await user.Client.GetAsync("/approvals", TestContext.Timeout)).StatusCode);

        Assert.Null(await accounts.SetEnabledAsync(id, false, TestContext.Timeout));
        using var disabled = await user.Client.GetAsync("/approvals", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Redirect, disabled.StatusCode);
        Assert.StartsWith("/login", disabled.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.Client.GetAsync("/api/v1/approvals", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task TheLastAdmin_CannotBeDemotedOrDisabled()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        var admin = (await gateway.Services.GetRequiredService<IConsoleUserStore>().FindAsync("admin", TestContext.Timeout))!;

        Assert.NotNull(await accounts.SetRolesAsync(admin.Id, [ConsoleRoles.Auditor], TestContext.Timeout));
        Assert.NotNull(await accounts.SetEnabledAsync(admin.Id, false, TestContext.Timeout));
        Assert.Equal([ConsoleRoles.Admin], (await gateway.Services.GetRequiredService<IConsoleUserStore>().GetAsync(admin.Id, TestContext.Timeout))!.Roles);

        // With a second admin, the first may step down.
        await accounts.CreateLocalAsync("second", null, [ConsoleRoles.Admin], TestContext.Timeout);
        Assert.Null(await accounts.SetRolesAsync(admin.Id, [ConsoleRoles.Auditor], TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(Gateway.Tests.Data.DatabaseEngines.Both), MemberType = typeof(Gateway.Tests.Data.DatabaseEngines))]
    public async Task TwoAdminsTakingEachOthersRoleAtOnce_LeaveOneAdmin(Gateway.Data.DatabaseProvider provider)
    {
        Gateway.Tests.Data.DatabaseEngines.Require(provider);
        var settings = new Dictionary<string, string?>();
        if (provider == Gateway.Data.DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("admins");
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        var store = gateway.Services.GetRequiredService<IConsoleUserStore>();
        await accounts.CreateLocalAsync("second", null, [ConsoleRoles.Admin], TestContext.Timeout);
        var first = (await store.FindAsync("admin", TestContext.Timeout))!.Id;
        var second = (await store.FindAsync("second", TestContext.Timeout))!.Id;

        // Each round both demote the other at the same moment (one by roles, one by disabling): one is refused.
        for (var round = 0; round < 10; round++)
        {
            var answers = await Task.WhenAll(
                accounts.SetRolesAsync(first, [ConsoleRoles.Auditor], TestContext.Timeout),
                accounts.SetEnabledAsync(second, false, TestContext.Timeout));
            Assert.Single(answers, a => a is null);
            Assert.Single(answers, a => a == "This is the only admin: make someone else an admin first.");
            Assert.Single(await store.ListAsync(TestContext.Timeout), u => u.Enabled && u.Roles.Contains(ConsoleRoles.Admin));

            // Both admins again for the next round.
            Assert.Null(await accounts.SetRolesAsync(first, [ConsoleRoles.Admin], TestContext.Timeout));
            Assert.Null(await accounts.SetEnabledAsync(second, true, TestContext.Timeout));
        }
    }

    [Fact]
    public async Task AGatewayLeftWithoutAnAdmin_StillLetsItsUsersBeChanged()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        await accounts.CreateLocalAsync("watcher", null, [ConsoleRoles.Auditor], TestContext.Timeout);
        var watcher = (await gateway.Services.GetRequiredService<IConsoleUserStore>().FindAsync("watcher", TestContext.Timeout))!.Id;

        // No enabled admin any more (as when an identity provider takes the role away at sign-in): a change that takes
        // no admin away is not refused as if it did.
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, """UPDATE "ConsoleUsers" SET "Enabled" = 0 WHERE "UserName" = 'admin';""");
        Assert.Null(await accounts.SetEnabledAsync(watcher, false, TestContext.Timeout));
        Assert.Null(await accounts.SetRolesAsync(watcher, [ConsoleRoles.Admin], TestContext.Timeout));
    }

    private static async Task AssertForbiddenPageAsync(ConsoleBrowser browser, string page)
    {
        using var response = await browser.Client.GetAsync(page, TestContext.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{page}: {response.StatusCode}");
        Assert.Contains("id=\"forbidden\"", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }
}
