using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Playwright;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// The Access page in a real browser (Debian chromium driven by Playwright) against a real gateway and upstream: an
/// admin sees who can call what, changes a tool's class and sees the decision follow (allow as read, hidden as write), and tries a tool through the
/// pipeline, audited in the admin's name.
/// </summary>
[Trait("Category", "E2E")]
public sealed class AccessBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Admin_ChangesAClass_SeesTheDecisionFollow_AndTriesATool()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("local"), Agent("bot", "access-agent-key-0123456789", "local/*:read")));
        await gateway.WaitForToolAsync("local__echo");

        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        var page = await context.NewPageAsync();
        await BrowserSignIn.AsAdminAsync(page);
        await page.GotoAsync("/access");
        await ChromiumFixture.WaitForInteractiveAsync(page);

        // Echo as a read tool: the read-only agent may call it. As a write tool: hidden from it, and the reason says why.
        var echoClass = page.Locator("#class-table tr").Filter(new() { Has = page.Locator("[data-tool='local/echo']") });
        await page.GetByLabel("Show hidden").CheckAsync();
        var cell = page.Locator("#access-table tr").Filter(new() { Has = page.Locator("[data-cell='bot|local__echo']") });
        await echoClass.Locator(".set-class.class-read").ClickAsync();
        await Assertions.Expect(echoClass.Locator(".tool-class")).ToHaveTextAsync("read");
        await Assertions.Expect(echoClass.Locator(".class-source")).ToHaveTextAsync("set by an admin");
        await Assertions.Expect(cell.Locator(".verdict")).ToHaveTextAsync("allow");
        await echoClass.Locator(".set-class.class-write").ClickAsync();
        await Assertions.Expect(echoClass.Locator(".tool-class")).ToHaveTextAsync("write");
        await Assertions.Expect(cell.Locator(".verdict")).ToHaveTextAsync("hidden");
        await Assertions.Expect(cell.Locator(".why")).ToContainTextAsync("reaches only read tools and this one is write");

        // Back to the upstream's hints.
        await echoClass.Locator(".set-class.class-hints").ClickAsync();
        await Assertions.Expect(echoClass.Locator(".class-source")).ToHaveTextAsync("from the upstream's hints");

        // Try it: through the pipeline, as console:admin.
        await echoClass.Locator(".try-tool").ClickAsync();
        await Assertions.Expect(page.Locator("#try-tool")).ToHaveValueAsync("local__echo");
        await page.Locator("#try-arguments").FillAsync("""{"message":"from the browser"}""");
        await page.Locator("#try-run").ClickAsync();
        await Assertions.Expect(page.Locator("#try-outcome")).ToHaveTextAsync("ok");
        await Assertions.Expect(page.Locator("#try-text")).ToContainTextAsync("echo: from the browser");
        await ChromiumFixture.ScreenshotAsync(page, "access");

        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Actor == "console:admin" && e.Record.Tool == "local__echo" && e.Record.Outcome == AuditOutcomes.Ok);
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.AdminChange && e.Record.Actor == "console:admin" && e.Record.Tool == "tool_class/local/echo");
    }
}
