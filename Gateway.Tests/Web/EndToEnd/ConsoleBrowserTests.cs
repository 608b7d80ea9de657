using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The console in a real browser (Debian chromium driven by Playwright): sign in, stay signed in once the interactive
/// circuit connects, and approve a held call that an agent is waiting on. Screenshots go to the test output folder.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ConsoleBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private const string Key = "browser-agent-key-012345";
    private readonly string _name = "br" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;

    public async Task InitializeAsync()
    {
        var (app, _) = await StartHttpAsync(_name);
        _upstream = app;
    }

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    [Fact]
    public async Task Approver_SignsIn_SeesTheHeldCallLive_AndApprovingReleasesTheAgent()
    {
        var url = _upstream!.Urls.First().TrimEnd('/') + "/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(_name, url),
            Agent("payments-bot", Key, $"{_name}/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:big-sums:Effect"] = "escalate",
                ["Gateway:Policies:big-sums:Tools:0"] = "add",
                ["Gateway:Policies:big-sums:Conditions:0:Path"] = "a",
                ["Gateway:Policies:big-sums:Conditions:0:Op"] = "gt",
                ["Gateway:Policies:big-sums:Conditions:0:Value"] = "1000",
                ["Gateway:Policies:big-sums:Reason"] = "amounts over 1000 need a second pair of eyes",
            }));
        await gateway.WaitForToolAsync($"{_name}__add");
        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();

        await BrowserSignIn.AsAdminAsync(page);
        await page.GotoAsync("/approvals");
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.Locator("#no-pending")).ToBeVisibleAsync();

        // The agent's call is held; the card arrives by push, without a reload.
        await using var agent = await gateway.ConnectAsync(Key);
        var call = agent.CallToolAsync($"{_name}__add", new Dictionary<string, object?> { ["a"] = 25_000, ["b"] = 17 }, cancellationToken: TestContext.Timeout).AsTask();
        var card = page.Locator(".approval-card");
        await Assertions.Expect(card).ToContainTextAsync("amounts over 1000 need a second pair of eyes");
        await Assertions.Expect(card).ToContainTextAsync("25000");
        Assert.Equal("/approvals", new Uri(page.Url).AbsolutePath);
        await ChromiumFixture.ScreenshotAsync(page, "approvals");
        Assert.False(call.IsCompleted);
        Assert.Equal(0, CallLog.Count(_name, "add"));

        // An approver on a phone sees the same card, readable without sideways scrolling, and approves from there.
        await using var phone = await chromium.NewContextAsync(gateway.BaseUri, width: 390, height: 844);
        var phonePage = await phone.NewPageAsync();
        await BrowserSignIn.AsAdminAsync(phonePage);
        await phonePage.GotoAsync("/approvals");
        await ChromiumFixture.WaitForInteractiveAsync(phonePage);
        var phoneCard = phonePage.Locator(".approval-card");
        await Assertions.Expect(phoneCard).ToContainTextAsync("25000");
        await Assertions.Expect(phoneCard.Locator("button.approve")).ToBeInViewportAsync();
        Assert.True(await phonePage.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the approvals page scrolls sideways on a phone");
        await ChromiumFixture.ScreenshotAsync(phonePage, "approvals-phone");

        await phoneCard.Locator("button.approve").ClickAsync();
        var result = await call.WaitAsync(TestContext.Timeout);
        Assert.Equal(25_017, result.StructuredContent!.Value.GetProperty("value").GetInt32());
        Assert.Equal(1, CallLog.Count(_name, "add"));
        await Assertions.Expect(page.Locator("#no-pending")).ToBeVisibleAsync();

        await page.GotoAsync("/");
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.Locator("#servers-connected")).ToHaveTextAsync("1 / 1");
        await ChromiumFixture.ScreenshotAsync(page, "dashboard");
    }
}
