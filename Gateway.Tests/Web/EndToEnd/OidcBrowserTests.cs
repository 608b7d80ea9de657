using System.Net;
using Gateway.Core.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// Console sign-in through a real OpenID Connect provider (OpenIddict on loopback), code flow with PKCE, in a real
/// browser; the provider's group claim is mapped to the console's roles by configuration.
/// </summary>
[Trait("Category", "E2E")]
public sealed class OidcBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Approver_SignsInThroughTheProvider_ReachesApprovals_AndGets403OnServers()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var gateway = await StartGatewayAsync(idp);
        idp.NextUser = ("alice", "Alice Approver", ["gateway-approvers"]);

        // Anonymous: to the sign-in page, which goes straight to the provider with a PKCE challenge.
        using (var browser = ConsoleBrowser.For(gateway))
        {
            using var login = await browser.Client.GetAsync("/login?returnUrl=%2Fapprovals", TestContext.Timeout);
            using var challenge = await browser.Client.GetAsync(login.Headers.Location, TestContext.Timeout);
            var authorize = challenge.Headers.Location!;
            Assert.Equal(idp.Authority.Authority, authorize.Authority);
            Assert.Equal("/connect/authorize", authorize.AbsolutePath);
            Assert.Contains("code_challenge_method=S256", authorize.Query, StringComparison.Ordinal);
            Assert.Contains("response_type=code", authorize.Query, StringComparison.Ordinal);
        }

        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        var approvals = await SignInThroughProviderAsync(page, gateway, "/approvals");
        Assert.Equal(200, approvals.Status);
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.Locator("#current-user")).ToHaveTextAsync("Alice Approver");
        await Assertions.Expect(page.Locator("#no-pending")).ToBeVisibleAsync();
        await ChromiumFixture.ScreenshotAsync(page, "oidc-approver-approvals");

        var servers = await page.GotoAsync("/servers");
        Assert.Equal(403, servers!.Status);
        await Assertions.Expect(page.Locator("#forbidden")).ToBeVisibleAsync();

        // The user is recorded by subject and issuer, with the role the provider's claim mapped to.
        var user = await gateway.Services.GetRequiredService<IConsoleUserStore>().FindAsync($"alice@{idp.Authority.Authority}", TestContext.Timeout);
        Assert.Equal([ConsoleRoles.Approver], user!.ProviderRoles);
        Assert.Empty(user.AssignedRoles);
        Assert.Contains(
            await gateway.AuditTrailAsync(),
            e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ConsoleLogin && e.Record.Actor == user.UserName && e.Record.Decision == "allow");
    }

    [Fact]
    public async Task AProviderUserWithoutAMappedRole_IsSignedIn_ButOpensNothing_UntilAnAdminAssignsARole()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        await using var gateway = await StartGatewayAsync(idp);
        // A name longer than a console user's display name (256 characters): kept cut, the sign-in goes on.
        idp.NextUser = ("bob", "Bob " + new string('b', 400), ["some-other-group"]);

        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        var home = await SignInThroughProviderAsync(page, gateway, "/");
        Assert.Equal(403, home.Status);

        var store = gateway.Services.GetRequiredService<IConsoleUserStore>();
        var bob = (await store.FindAsync($"bob@{idp.Authority.Authority}", TestContext.Timeout))!;
        Assert.Empty(bob.Roles);
        Assert.Equal(("Bob " + new string('b', 400))[..256], bob.DisplayName);
        Assert.Equal(AdminKeepingChange.Done, (await store.ChangeKeepingAnAdminAsync(bob.Id, [ConsoleRoles.Auditor], enabled: null, TestContext.Timeout)).Outcome);

        // Same cookie, next request: the assigned role applies.
        var servers = await page.GotoAsync("/servers");
        Assert.Equal(200, servers!.Status);
        await Assertions.Expect(page.Locator("#read-only")).ToBeVisibleAsync();

        // Sign-out ends the console session and does not bounce straight back to the provider.
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await page.ClickAsync("form[action='/console/logout'] button");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.Found, (HttpStatusCode)(await page.APIRequest.GetAsync("/servers", new() { MaxRedirects = 0 })).Status);
    }

    /// <summary>
    /// Opens a page while signed out: the browser goes to the provider and back (its form post is a navigation of its
    /// own), then the page is loaded again for its status as a signed-in user.
    /// </summary>
    private static async Task<IResponse> SignInThroughProviderAsync(IPage page, GatewayHost gateway, string path)
    {
        await page.GotoAsync(path);
        await page.WaitForURLAsync(new Uri(gateway.BaseUri, path).ToString());
        return (await page.GotoAsync(path))!;
    }

    private static async Task<GatewayHost> StartGatewayAsync(TestIdentityProvider idp)
    {
        var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Authentication:Oidc:Authority"] = idp.Authority.ToString(),
            ["Authentication:Oidc:ClientId"] = "gateway-console",
            ["Authentication:Oidc:ClientSecret"] = "console-secret-of-tests",
            ["Authentication:Oidc:RequireHttpsMetadata"] = "false",
            ["Authentication:Oidc:Scopes:0"] = "roles",
            ["Authentication:Oidc:Roles:Approver:0"] = "gateway-approvers",
            ["Authentication:Oidc:Roles:Admin:0"] = "gateway-admins",
        });
        await idp.RegisterClientAsync("gateway-console", "console-secret-of-tests", new Uri(gateway.BaseUri, "/signin-oidc"));
        return gateway;
    }
}
