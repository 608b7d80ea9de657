using Gateway.Tests.Support;
using Microsoft.Playwright;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// A console page left open across a gateway restart comes back by itself: the reconnect dialog keeps trying, the first
/// attempt that reaches the restarted gateway finds its circuit gone, and the page reloads into a fresh one.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ReconnectBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task AnOpenConsolePage_RecoversByItself_AfterTheGatewayRestarts()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{FreePort()}" };
        try
        {
            var first = await GatewayHost.StartAsync(settings, directory);
            await using var context = await chromium.NewContextAsync(first.BaseUri);
            var page = await context.NewPageAsync();
            await BrowserSignIn.AsAdminAsync(page);
            await page.GotoAsync("/approvals");
            await ChromiumFixture.WaitForInteractiveAsync(page);

            // Marks this document: a reload replaces it (a new circuit), a reconnection to the old circuit would not.
            await page.EvaluateAsync("() => { window.mcpgwBeforeRestart = true; document.documentElement.removeAttribute('data-circuit'); }");
            await first.DisposeAsync();
            await Assertions.Expect(ReconnectDialog(page)).ToBeVisibleAsync();

            // The gateway's schedule (every 2 s, without end), not the default one (every 5 s, then 30 s, then a button).
            await Assertions.Expect(ReconnectDialog(page)).ToContainTextAsync("trying again in 2 seconds");

            // Down for longer than the default schedule's burst of immediate attempts; the same database and key ring
            // (the cookie stays valid), on the same address.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await using var second = await GatewayHost.StartAsync(settings, directory);
            await page.Locator("html[data-circuit=ready]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 20_000 });
            Assert.False(await page.EvaluateAsync<bool>("() => window.mcpgwBeforeRestart === true"), "the page was not reloaded");
            Assert.Equal("/approvals", new Uri(page.Url).AbsolutePath);
            await Assertions.Expect(page.Locator("#no-pending")).ToBeVisibleAsync();
            await Assertions.Expect(ReconnectDialog(page)).Not.ToBeVisibleAsync();
            await ChromiumFixture.ScreenshotAsync(page, "after-restart");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    // Blazor's own reconnect dialog (its overlay is marked visible while it shows).
    private static ILocator ReconnectDialog(IPage page) => page.Locator(".components-reconnect-overlay.components-reconnect-visible");

    private static int FreePort() => FreePorts.Next();
}
