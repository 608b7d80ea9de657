using System.Net;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;

namespace Gateway.Tests.Web.Console;

/// <summary>What a person meets around the console: a throttled sign-in says when to retry, and the tab has an icon.</summary>
public sealed partial class ConsoleRoughEdgesTests
{
    [Fact]
    public async Task AThrottledSignIn_IsAPageSayingWhenToRetry_NotABare429()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);

        // Twenty attempts a minute per address are let through (wrong passwords: back to the form).
        for (var i = 0; i < 20; i++)
        {
            using var refused = await browser.SignInAsync("admin", "wrong-password-" + i);
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        }

        using var throttled = await browser.SignInAsync("admin", GatewayHost.BootstrapPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("text/html", throttled.Content.Headers.ContentType!.MediaType);
        var seconds = (int)throttled.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        Assert.InRange(seconds, 1, 60);
        var html = await throttled.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Contains($"<p id=\"throttled\">Too many attempts; try again in {seconds} s.</p>", html, StringComparison.Ordinal);
        Assert.Contains($"<meta http-equiv=\"refresh\" content=\"{seconds};url=/login\" />", html, StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "mcpgw.console");
    }

    [Fact]
    public async Task TheConsoleLinksAFavicon_AndItIsServed()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);
        var login = await browser.Client.GetStringAsync("/login", TestContext.Timeout);
        var href = IconLink().Match(login);
        Assert.True(href.Success, "no icon link on the sign-in page");

        foreach (var path in new[] { href.Groups["href"].Value, "/favicon.svg" })
        {
            using var icon = await browser.Client.GetAsync(new Uri(gateway.BaseUri, path), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
            Assert.Equal("image/svg+xml", icon.Content.Headers.ContentType!.MediaType);
            Assert.StartsWith("<svg ", await icon.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"<link rel=""icon""[^>]* href=""(?<href>[^""]+)""")]
    private static partial Regex IconLink();
}
