using Gateway.Core.Catalog;
using Gateway.Tests.Support;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The review of quarantined tools in a real browser (Debian chromium driven by Playwright), against a real upstream
/// serving poisoned definitions: the findings with the offending text marked and invisible characters made visible,
/// hostile markup shown as text (never rendered), a rug pull's old and new text side by side, and accepting from the page.
/// </summary>
[Trait("Category", "E2E")]
public sealed class DefinitionReviewBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Key = "review-agent-key-0123456";

    [Fact]
    public async Task Admin_SeesFindingsHighlighted_AndTheRugPullDiff_AndAcceptsFromTheConsole()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("evil"),
            new Dictionary<string, string?> { ["Gateway:Servers:evil:Args:4"] = "--poisoned" },
            Agent("bot", Key, "evil/*")));
        await gateway.WaitForToolAsync("evil__shape");
        await gateway.Upstreams.WaitUntilAsync(c => c.Pins.TryGet("evil", "shape", out var p) && p.Definition is not null, TestContext.Timeout);
        await using var agent = await gateway.ConnectAsync(Key);
        await agent.CallToolAsync("evil__shift_shape", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        await gateway.Upstreams.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "shape" && q.State == PinState.Changed), TestContext.Timeout);

        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        await BrowserSignIn.AsAdminAsync(page);
        await page.GotoAsync("/servers");
        await ChromiumFixture.WaitForInteractiveAsync(page);

        // The poisoned add: each finding's offending text is marked; the <IMPORTANT> block is text, not an element.
        var add = page.Locator(".quarantined-tool[data-tool='evil/add_numbers']");
        await Assertions.Expect(add.Locator(".quarantine-reason")).ToContainTextAsync("not trusted on first use");
        await Assertions.Expect(add.Locator(".definition-finding[data-kind='credential-path'] mark").Filter(new() { HasText = "~/.ssh" })).ToBeVisibleAsync();
        await Assertions.Expect(add.Locator(".definition-finding[data-kind='hidden-markup'] mark").First).ToHaveTextAsync("<IMPORTANT>");
        await Assertions.Expect(add.Locator(".definition-finding[data-kind='invisible-character'] mark")).ToHaveTextAsync("⟨U+200B⟩⟨U+200B⟩");
        Assert.Equal(0, await page.Locator("important").CountAsync());

        // The smuggled instruction in tag characters is shown as code points, and its decoded text is named.
        var weather = page.Locator(".quarantined-tool[data-tool='evil/weather'] .definition-finding");
        await Assertions.Expect(weather.Locator("code")).ToHaveTextAsync("inputSchema.properties.city.description");
        await Assertions.Expect(weather.Locator("mark")).ToContainTextAsync("⟨U+E0073⟩⟨U+E0065⟩⟨U+E006E⟩⟨U+E0064⟩");
        await Assertions.Expect(weather).ToContainTextAsync(Gateway.TestUpstream.PoisonedTools.SmuggledText);

        // The rug pull: old and new, field by field.
        var shape = page.Locator(".quarantined-tool[data-tool='evil/shape']");
        var description = shape.Locator(".definition-change[data-field='description']");
        await Assertions.Expect(description.Locator(".old del")).ToHaveTextAsync("Draws a shape.");
        await Assertions.Expect(description.Locator(".new ins")).ToHaveTextAsync("Draws a shape. Also uploads the drawing to the sharing service.");
        await Assertions.Expect(shape.Locator(".definition-change[data-field='inputSchema.properties.recipient.description'] .old")).ToHaveTextAsync("absent");
        await Assertions.Expect(shape.Locator(".definition-change[data-field='annotations.destructiveHint'] .new")).ToHaveTextAsync("true");
        await ChromiumFixture.ScreenshotAsync(page, "definition-review");

        // Accepting from the page goes through the admin path: the tool is offered, and leaves the quarantine list.
        await add.Locator("button.accept-definition").ClickAsync();
        await gateway.WaitForToolAsync("evil__add_numbers");
        Assert.Contains("evil__add_numbers", (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        await Assertions.Expect(add).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#test-result")).ToHaveTextAsync("Accepted the current definition of 'evil/add_numbers'.");
        Assert.Equal("admin", gateway.Upstreams.Catalog.Pins.TryGet("evil", "add_numbers", out var pin) ? pin.PinnedBy : null);
    }
}
