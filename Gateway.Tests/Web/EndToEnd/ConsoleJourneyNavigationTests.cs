using Gateway.Tests.Support;
using Gateway.Core.Identity;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The first seconds after a first sign-in, in a real browser: the operator changes the one-time password, lands on the
/// dashboard, and at once clicks Servers and types. The page loaded by the password change is prerendered; before its
/// circuit is live, a click there went to enhanced navigation while the circuit started on the dashboard's URL, and
/// the address said /servers while the dashboard stayed (or the typed text was replaced). Repeated with a fresh browser
/// context and a fresh user each time, without waiting for the circuit, so the race shows if it is there.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ConsoleJourneyNavigationTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const int Rounds = 5;

    [Fact]
    public async Task FirstSignIn_ChangePassword_ThenAtOnceServers_ShowsServers_AndKeepsTheTypedText()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        for (var round = 1; round <= Rounds; round++)
        {
            var user = $"operator{round}";
            var (oneTime, errors) = await accounts.CreateLocalAsync(user, $"Operator {round}", [ConsoleRoles.Admin], TestContext.Timeout);
            Assert.Empty(errors);

            await using var context = await chromium.NewContextAsync(gateway.BaseUri);

            // Each round hashes passwords twice on the server; on a loaded CI machine that outlasts Playwright's 30 s.
            context.SetDefaultTimeout(90_000);
            var page = await context.NewPageAsync();
            await BrowserSignIn.LocalAsync(page, user, oneTime!);
            Assert.Equal("/account/password", new Uri(page.Url).AbsolutePath);
            await page.FillAsync("#current", oneTime!);
            await page.FillAsync("#new", $"{user}-chosen-password");
            await page.FillAsync("#confirm", $"{user}-chosen-password");
            await page.ClickAsync("form:has(#current) button[type=submit]");

            // At once, as a person does: as soon as the dashboard's document arrives, before it has even loaded, and
            // with no wait for the circuit.
            await ChromiumFixture.WaitForPathAsync(page, path => path == "/", "the password change leads to the dashboard");
            await page.ClickAsync("a.mud-nav-link[href='/servers']");

            // A person types once the connecting bar is gone (until then the page is inert: it takes no focus and no
            // keys). Playwright's fill would set the value of an inert input anyway, which no person can do.
            await Assertions.Expect(page.Locator("#connecting")).ToHaveCountAsync(0);
            var typed = $"typed-in-round-{round}";
            await page.FillAsync("#server-name", typed);

            // Once live (and after any late render), the page is Servers, at /servers, with the text typed.
            await ChromiumFixture.WaitForInteractiveAsync(page);
            await Assertions.Expect(page).ToHaveURLAsync(new Uri(gateway.BaseUri, "/servers").ToString());
            await Assertions.Expect(page.Locator("#register-server")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#servers-connected")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("#server-name")).ToHaveValueAsync(typed);

            // Typing goes on working: the input is bound to the live page, not a leftover of the prerendered one.
            await page.FillAsync("#server-name", typed + "-more");
            await Assertions.Expect(page.Locator("#server-name")).ToHaveValueAsync(typed + "-more");
            await ChromiumFixture.ScreenshotAsync(page, $"first-sign-in-servers-{round}");
        }
    }
}
