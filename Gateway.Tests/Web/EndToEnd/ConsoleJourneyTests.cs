using Gateway.Tests.Support;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.EndToEnd;

/// <summary>
/// A new operator's first session, in a real browser against the real gateway: sign in with the one-time password,
/// choose a new one, register a server through the form, create an agent, copy its key, and use it from an MCP client.
/// Screenshots of each page go to the test output's artifacts folder.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ConsoleJourneyTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task FreshMachine_SignIn_ChangePassword_RegisterServer_CreateAgent_AgentCallsATool()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        await using var context = await chromium.NewContextAsync(gateway.BaseUri);
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var page = await context.NewPageAsync();

        // (a) The bootstrap admin's one-time password opens only the password page; a too-short choice is explained.
        await BrowserSignIn.LocalAsync(page, "admin", GatewayHost.BootstrapPassword);
        Assert.Equal("/account/password", new Uri(page.Url).AbsolutePath);
        await Assertions.Expect(page.Locator("#must-change")).ToBeVisibleAsync();
        await page.FillAsync("#current", GatewayHost.BootstrapPassword);
        await page.FillAsync("#new", "short");
        await page.FillAsync("#confirm", "short");
        await page.ClickAsync("form:has(#current) button[type=submit]");
        await Assertions.Expect(page.Locator(".field-error[data-field=newPassword]")).ToHaveTextAsync("Use at least 12 characters.");
        await ChromiumFixture.ScreenshotAsync(page, "password-change");
        await BrowserSignIn.ChangePasswordAsync(page, GatewayHost.BootstrapPassword, GatewayHost.AdminPassword);
        Assert.Equal("/", new Uri(page.Url).AbsolutePath);

        // (c) Register a server through the form: tested first, then saved, then its tools are listed.
        await page.GotoAsync("/servers");
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await page.FillAsync("#server-name", "local");
        await page.FillAsync("#server-command", "dotnet");
        await page.FillAsync("#server-args", TestUpstreamDll + "\nstdio");
        await page.ClickAsync("#test-connection");
        await Assertions.Expect(page.Locator("#test-result")).ToContainTextAsync("Connected to", new() { Timeout = 30_000 });
        await page.ClickAsync("#save-server");
        await Assertions.Expect(page.Locator("#test-result")).ToHaveTextAsync("Registered 'local'.");
        await Assertions.Expect(page.Locator("#tool-table")).ToContainTextAsync("local__echo", new() { Timeout = 30_000 });
        await ChromiumFixture.ScreenshotAsync(page, "servers");

        // (d) Create an agent, copy its key with the copy button, and use it from an MCP client.
        await page.GotoAsync("/agents");
        await ChromiumFixture.WaitForInteractiveAsync(page);
        await page.FillAsync("#agent-name", "journey-bot");
        await page.FillAsync("#agent-grants", "local/*");
        await page.ClickAsync("#create");
        var key = (await page.Locator("#new-key").TextContentAsync())!.Trim();
        await page.ClickAsync("[aria-label='Copy key']");
        // The copy goes through the circuit to the browser's clipboard: wait until the key is there.
        await page.WaitForFunctionAsync("async key => (await navigator.clipboard.readText()) === key", key);
        await Assertions.Expect(page.Locator(".client-config").First).ToContainTextAsync(key);
        await ChromiumFixture.ScreenshotAsync(page, "agents");

        await using var agent = await gateway.ConnectAsync(key);
        Assert.Contains((await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name), n => n == "local__echo");
        var result = await agent.CallToolAsync("local__echo", new Dictionary<string, object?> { ["message"] = "hello from the console" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("hello from the console", ((TextContentBlock)result.Content[0]).Text, StringComparison.Ordinal);

        // The remaining pages, for the record.
        foreach (var (path, name) in new[] { ("/", "dashboard-after-setup"), ("/policies", "policies"), ("/audit", "audit"), ("/settings", "settings") })
        {
            await page.GotoAsync(path);
            await ChromiumFixture.WaitForInteractiveAsync(page);
            await ChromiumFixture.ScreenshotAsync(page, name);
        }
    }
}
