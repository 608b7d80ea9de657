using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.Playwright;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The grants editor's picker in a real browser (Debian chromium, Playwright) against a real gateway and upstream: a
/// grant naming an unknown server is warned about (not refused), a server and tool are picked from what the gateway
/// knows, and saving changes the agent's grants.
/// </summary>
[Trait("Category", "E2E")]
public sealed class GrantPickerBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Admin_PicksAServerAndTool_IsWarnedOfAnUnknownServer_AndSavesTheGrants()
    {
        await using var gateway = await GatewayHost.StartAsync(Stdio("local"));
        await gateway.WaitForToolAsync("local__add");
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "bot", grants = new[] { "local/echo" } }, TestContext.Timeout))
        {
            created.EnsureSuccessStatusCode();
        }

        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        await BrowserSignIn.AsAdminAsync(page);
        await page.GotoAsync("/agents");
        await ChromiumFixture.WaitForInteractiveAsync(page);

        var row = page.Locator("#agent-table tr").Filter(new() { HasText = "bot" });
        await row.Locator("button.edit-grants").ClickAsync();
        var grants = page.Locator("#edit-grants");
        await Assertions.Expect(grants).ToHaveValueAsync("local/echo");

        // A server the gateway does not know: a warning under the picker, nothing refused.
        await grants.FillAsync("local/echo\nghost/*");
        await Assertions.Expect(page.Locator(".grant-warning")).ToContainTextAsync("names server 'ghost', which is not known");

        // Pick local, then its tool add (shown with its class), and add the grant to the text.
        // A MudSelect with a value hides its input: the select itself is what a person clicks.
        await page.Locator(".mud-select:has(#grant-server) .mud-input-control").First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^local$") }).ClickAsync();
        await page.Locator(".mud-select:has(#grant-tool) .mud-input-control").First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "add (" }).ClickAsync();
        await Assertions.Expect(page.Locator("#add-grant")).ToContainTextAsync("local/add");
        await page.Locator("#add-grant").ClickAsync();
        await Assertions.Expect(grants).ToHaveValueAsync("local/echo\nghost/*\nlocal/add");
        await Assertions.Expect(page.Locator(".grant-warning")).ToHaveCountAsync(1);
        await ChromiumFixture.ScreenshotAsync(page, "grant-picker");

        await page.Locator("#save-grants").ClickAsync();
        await Assertions.Expect(page.Locator("#grants-editor")).ToHaveCountAsync(0);
        var agent = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/bot", TestContext.Timeout);
        Assert.Equal(["local/echo", "ghost/*", "local/add"], agent.GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
    }
}
