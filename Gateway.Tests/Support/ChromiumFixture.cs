using Microsoft.Playwright;

namespace Gateway.Tests.Support;

/// <summary>
/// Debian's chromium driven by Playwright, launched once per test class; each test opens its own context (own cookies).
/// Screenshots go to <see cref="Artifacts"/> in the test output folder.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public static string Artifacts => Path.Combine(AppContext.BaseDirectory, "artifacts");

    public IBrowser Browser { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"chromium not found at {chromium} (.ci/run installs Debian's chromium)");
        _playwright = await Playwright.CreateAsync();

        // Expectations poll the page until they hold; 20 s instead of 5 for the same reason as the contexts' timeout.
        Assertions.SetDefaultExpectTimeout(20_000);
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(Artifacts);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>
    /// A fresh browser context on the gateway, at the given viewport (1280 px wide by default). Its actions and
    /// navigations may take 60 s, not Playwright's 30: a first page load (a Blazor circuit, the sign-in's password
    /// hashing) on two cores shared with the rest of the suite at a load average of 10-15 once outlasted 30 s. Waits
    /// stay waits for an event: a page that never comes still fails, later.
    /// </summary>
    public async Task<IBrowserContext> NewContextAsync(Uri baseUri, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = baseUri.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(60_000);
        return context;
    }

    /// <summary>
    /// Waits until the page's address satisfies <paramref name="path"/>, by polling it (60 s at most). Not
    /// <c>WaitForURLAsync</c> with <c>WaitUntil = Commit</c>: when the address already matches it ignores Commit and
    /// waits for the page's load event (playwright-dotnet#3365), which on a loaded machine was not reported within 60 s
    /// after a fast redirect although the page was there and live; and its check-then-subscribe can lose the navigation
    /// it waits for (playwright-dotnet#3364).
    /// </summary>
    public static Task WaitForPathAsync(IPage page, Func<string, bool> path, string what) =>
        Eventually.TrueAsync(() => path(new Uri(page.Url).AbsolutePath), what, TimeSpan.FromSeconds(60));

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    /// <summary>
    /// Waits until the interactive circuit rendered the page (the layout marks <c>html[data-circuit=ready]</c>); input
    /// typed into the prerendered HTML before that would be lost.
    /// </summary>
    public static Task WaitForInteractiveAsync(IPage page) =>
        page.Locator("html[data-circuit=ready]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
}
