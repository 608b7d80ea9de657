using Microsoft.Playwright;

namespace Gateway.Tests.Support;

/// <summary>The console's sign-in, done in a real browser the way a person does it.</summary>
internal static class BrowserSignIn
{
    /// <summary>Signs in as the bootstrap admin, replacing its one-time password when asked to.</summary>
    public static async Task AsAdminAsync(IPage page)
    {
        await LocalAsync(page, "admin", GatewayHost.BootstrapPassword);
        if (new Uri(page.Url).AbsolutePath == "/account/password")
        {
            await ChangePasswordAsync(page, GatewayHost.BootstrapPassword, GatewayHost.AdminPassword);
        }
        else if (new Uri(page.Url).Query.Contains("error=local", StringComparison.Ordinal))
        {
            // Changed already (by an earlier context of the same test).
            await LocalAsync(page, "admin", GatewayHost.AdminPassword);
        }
    }

    public static async Task LocalAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/login");
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
    }

    public static async Task ChangePasswordAsync(IPage page, string current, string next)
    {
        await page.FillAsync("#current", current);
        await page.FillAsync("#new", next);
        await page.FillAsync("#confirm", next);
        await page.ClickAsync("form:has(#current) button[type=submit]");
        await ChromiumFixture.WaitForPathAsync(page, path => path != "/account/password", "the password change leaves the password page");
    }
}
