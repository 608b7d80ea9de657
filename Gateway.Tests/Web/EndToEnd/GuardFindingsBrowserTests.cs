using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The audit page in a real browser shows what the result guard found in a call (kind and place), found by the free
/// text filter, and nowhere the secret itself.
/// </summary>
[Trait("Category", "E2E")]
public sealed class GuardFindingsBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Key = "guard-browser-agent-key-0123";
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";

    [Fact]
    public async Task TheAuditPage_ShowsTheFindings_NeverTheSecret()
    {
        var leaky = Stdio("leaky");
        leaky["Gateway:Servers:leaky:Args:4"] = "--hostile";
        await using var gateway = await GatewayHost.StartAsync(Merge(leaky, Agent("agent", Key, "leaky/*")));
        await gateway.WaitForToolAsync("leaky__reflect");
        await using (var agent = await gateway.ConnectAsync(Key))
        {
            await agent.CallToolAsync("leaky__reflect", new Dictionary<string, object?> { ["text"] = "clean" }, cancellationToken: TestContext.Timeout);
            await agent.CallToolAsync("leaky__reflect", new Dictionary<string, object?> { ["text"] = $"key {Aws}" }, cancellationToken: TestContext.Timeout);
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        await BrowserSignIn.AsAdminAsync(page);
        await page.GotoAsync("/audit");
        await ChromiumFixture.WaitForInteractiveAsync(page);

        await page.Locator("#filter-text").FillAsync("secret.aws-access-key");
        await page.Locator("#apply-filter").ClickAsync();
        var rows = page.Locator(".audit-row");
        await Assertions.Expect(rows).ToHaveCountAsync(2); // the call's started entry and its completion

        await rows.First.ClickAsync();
        var details = page.Locator("#entry-details");
        await Assertions.Expect(details).ToContainTextAsync("Guard findings");
        await Assertions.Expect(details).ToContainTextAsync("\"at\":\"content[0].text@4\",\"kind\":\"secret.aws-access-key\"");
        await Assertions.Expect(details).ToContainTextAsync("[REDACTED:aws-access-key]");
        Assert.DoesNotContain(Aws, await page.ContentAsync(), StringComparison.Ordinal);
        await ChromiumFixture.ScreenshotAsync(page, "audit-guard-findings");
    }
}
