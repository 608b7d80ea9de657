using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Tests.Support;
using Gateway.Tests.Web.Credentials.Users;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Users;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.OAuthFlow;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// Disabling a console user stops the access tokens their agents already hold, on every instance and at once (not at the
/// tokens' expiry): the disabling is an automatic revocation with its reason, pushed like an admin's, and enabling the
/// user lifts it (never an admin's revocation).
/// </summary>
public sealed class ConsoleUserDisableTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>One resource URL for both instances, so that a token of one is valid at the other (one issuer, one key file).</summary>
    private const string Resource = "http://127.0.0.1:9/mcp";

    [Fact]
    public async Task DisablingAConsoleUser_RefusesTheirAgentsTokens_OnEveryInstance_AndEnablingLiftsIt_ButNotAnAdminsRevocation()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var settings = Merge(AuthorizationServerTests.Settings(), new Dictionary<string, string?> { ["Gateway:AgentOAuth:Resource"] = Resource });
            await using var first = await GatewayHost.StartAsync(settings, directory);
            await using var second = await GatewayHost.StartAsync(settings, directory);
            await second.WaitForToolAsync("notes__echo");
            var carol = await SignInAsync(first, "carol");
            var dave = await SignInAsync(first, "dave");
            await AssertServedAsync(second, carol);

            Assert.Equal(AdminOutcome.Done, (await SetEnabledAsync(first, "carol", enabled: false)).Outcome);

            // This instance at once; the other from the shared database's change (SQLite's 1 s poll), within a deadline.
            await AssertRefusedAsync(first, carol, "User 'carol' is disabled in the gateway's console");
            await EventuallyRefusedAsync(second, carol, "User 'carol' is disabled in the gateway's console");
            await AssertServedAsync(second, dave);

            var revoked = Assert.Single(await first.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));
            Assert.Equal(("carol", RevocationReason.ConsoleUserDisabled, "console:admin"), (revoked.User, revoked.Reason, revoked.RevokedBy));
            var change = Assert.Single((await first.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.AdminChange && r.Tool == "user/carol");
            Assert.Equal("console:admin", change.Actor);

            // Enabled again: the same token works again, on both instances.
            Assert.Equal(AdminOutcome.Done, (await SetEnabledAsync(first, "carol", enabled: true)).Outcome);
            await AssertServedAsync(first, carol);
            await EventuallyServedAsync(second, carol);
            Assert.Empty(await first.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));

            // An admin's revocation of a disabled user takes the place of the automatic one: enabling does not lift it.
            Assert.Equal(AdminOutcome.Done, (await SetEnabledAsync(first, "dave", enabled: false)).Outcome);
            using (var revoke = await first.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "dave" }, TestContext.Timeout))
            {
                Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            }

            Assert.Equal(AdminOutcome.Done, (await SetEnabledAsync(first, "dave", enabled: true)).Outcome);
            await AssertRefusedAsync(first, dave, "User 'dave' was revoked by an admin");

            // Both revocations are in the trail (the admin's changed the reason); enabling changed nothing, so no entry.
            Assert.Equal(
                [("console:admin", "revoke"), ("admin-api", "revoke")],
                (await first.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.AdminChange && r.Tool == "user/dave").Select(r => (r.Actor!, r.Decision!)));
            var kept = Assert.Single(await first.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));
            Assert.Equal(("dave", RevocationReason.Admin), (kept.User, kept.Reason));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ADisablingWhoseRevocationEntryIsRefused_LeavesTheUserEnabled_AndEnablingLikewise()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<Gateway.Web.Identity.ConsoleAccounts>();
        var store = gateway.Services.GetRequiredService<IConsoleUserStore>();
        await accounts.CreateLocalAsync("carol", null, [ConsoleRoles.Auditor], TestContext.Timeout);

        // The revocation's entry cannot be written: neither the revocation nor the disabling is kept.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, "user/carol"))
        {
            await Assert.ThrowsAsync<AuditUnavailableException>(() => SetEnabledAsync(gateway, "carol", enabled: false));
        }

        Assert.True((await store.FindAsync("carol", TestContext.Timeout))!.Enabled);
        Assert.Empty(await gateway.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));
        Assert.DoesNotContain((await gateway.AuditTrailAsync()).Select(e => e.Record), r => (r.Tool == "console_user/carol" && r.Decision == "disable") || r.Tool == "user/carol");

        // Disabled for real, then an enabling whose lifting entry is refused: the user stays disabled and revoked.
        Assert.Equal(AdminOutcome.Done, (await SetEnabledAsync(gateway, "carol", enabled: false)).Outcome);
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, "user/carol"))
        {
            await Assert.ThrowsAsync<AuditUnavailableException>(() => SetEnabledAsync(gateway, "carol", enabled: true));
        }

        Assert.False((await store.FindAsync("carol", TestContext.Timeout))!.Enabled);
        Assert.Equal("carol", Assert.Single(await gateway.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout)).User);
        Assert.True(gateway.Services.GetRequiredService<Gateway.Web.Credentials.Users.UserRevocations>().IsRevoked("carol"), "this instance no longer enforces the revocation");
    }

    /// <summary>A console user (role Auditor) signs in and authorizes a registered client; yields their access token.</summary>
    private static async Task<string> SignInAsync(GatewayHost gateway, string user)
    {
        var clientId = await RegisterAsync(gateway.BaseUri);
        var (verifier, challenge) = Pkce();
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, user, ConsoleRoles.Auditor);
        var answer = await AuthorizeAsync(browser.Client, AuthorizeParameters(clientId, challenge, new Uri(Resource)));
        var (status, tokens) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, new Uri(Resource));
        Assert.Equal(HttpStatusCode.OK, status);
        return tokens.GetProperty("access_token").GetString()!;
    }

    /// <summary>Enables or disables a console user through the operations the console's Settings page calls, as a console admin.</summary>
    internal static async Task<AdminResult> SetEnabledAsync(GatewayHost gateway, string user, bool enabled)
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<AdminActor>().Set(
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, ConsoleRoles.Admin)], "test")), "console:admin");
        var id = (await scope.ServiceProvider.GetRequiredService<IConsoleUserStore>().FindAsync(user, TestContext.Timeout))!.Id;
        return await scope.ServiceProvider.GetRequiredService<ConsoleUserOperations>().SetEnabledAsync(id, enabled, TestContext.Timeout);
    }

    /// <summary>The user's agent lists and calls (an auditor's grants: notes).</summary>
    private static async Task AssertServedAsync(GatewayHost gateway, string token)
    {
        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "notes__echo");
        var result = await client.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "hello" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
    }

    private static async Task AssertRefusedAsync(GatewayHost gateway, string token, string message)
    {
        using var response = await PerUserAccountTests.RawPostAsync(gateway, token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }

    private async Task EventuallyRefusedAsync(GatewayHost gateway, string token, string message)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await PerUserAccountTests.RawPostAsync(gateway, token);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                Assert.Contains(message, await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
                output.WriteLine($"refused on the other instance {watch.Elapsed.TotalMilliseconds:0} ms after the change");
                return;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"still served by the other instance {watch.Elapsed.TotalMilliseconds:0} ms after the change");
            await Task.Delay(20, TestContext.Timeout);
        }
    }

    private static async Task EventuallyServedAsync(GatewayHost gateway, string token)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await PerUserAccountTests.RawPostAsync(gateway, token);
            if (response.StatusCode != HttpStatusCode.Forbidden)
            {
                await AssertServedAsync(gateway, token);
                return;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"still refused by the other instance {watch.Elapsed.TotalMilliseconds:0} ms after the change");
            await Task.Delay(20, TestContext.Timeout);
        }
    }
}
