using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Gateway.Core.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Identity;

/// <summary>A fresh machine's console: the bootstrap admin, its one-time password, and the forced change, over the real host.</summary>
public sealed partial class LocalSignInTests
{
    private const string NewPassword = "correct horse battery staple";

    [Fact]
    public async Task BootstrapAdmin_MustReplaceItsOneTimePassword_BeforeAnythingElse()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using (var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), directory))
            {
                using var browser = ConsoleBrowser.For(gateway);
                using (var wrong = await browser.SignInAsync("admin", "not-the-password"))
                {
                    Assert.StartsWith("/login?error=local", wrong.Headers.Location!.OriginalString, StringComparison.Ordinal);
                }

                // The refused attempt is in the audit trail, with the name tried.
                var refused = Assert.Single(await gateway.AuditTrailAsync(), e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ConsoleLogin).Record;
                Assert.Equal(("anonymous", "deny"), (refused.Actor, refused.Decision));
                Assert.Contains("'admin'", refused.Error, StringComparison.Ordinal);

                using (var first = await browser.SignInAsync("admin", GatewayHost.BootstrapPassword, returnUrl: "//evil.example/"))
                {
                    // Straight to the password page, and a foreign return URL became the console's root.
                    Assert.Equal("/account/password?returnUrl=%2F", first.Headers.Location!.OriginalString);
                }

                // Until the password is changed, pages lead to the password page and the API refuses.
                using (var servers = await browser.Client.GetAsync("/servers", TestContext.Timeout))
                {
                    Assert.Equal("/account/password", servers.Headers.Location!.OriginalString);
                }

                Assert.Equal(HttpStatusCode.Forbidden, (await browser.Client.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await browser.Client.GetAsync("/api/v1/agents/bot.v2", TestContext.Timeout)).StatusCode);
                Assert.Contains("id=\"must-change\"", await browser.Client.GetStringAsync("/account/password", TestContext.Timeout), StringComparison.Ordinal);

                // Every error is shown next to its field, and nothing changes.
                await AssertFieldErrorAsync(browser, "not-the-password", NewPassword, NewPassword, "currentPassword", "The current password is not correct.");
                await AssertFieldErrorAsync(browser, GatewayHost.BootstrapPassword, "short", "short", "newPassword", "Use at least 12 characters.");
                await AssertFieldErrorAsync(browser, GatewayHost.BootstrapPassword, NewPassword, NewPassword + "!", "confirmPassword", "The two passwords differ.");
                await AssertFieldErrorAsync(browser, GatewayHost.BootstrapPassword, GatewayHost.BootstrapPassword, GatewayHost.BootstrapPassword, "newPassword", "Choose a password different from the current one.");

                using (var changed = await browser.ChangePasswordAsync(GatewayHost.BootstrapPassword, NewPassword))
                {
                    Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
                    Assert.Equal("/", new Uri(gateway.BaseUri, changed.Headers.Location!).PathAndQuery);
                }

                // The change went through the operations: audited as the user's own, never the password.
                await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
                await using (var db = await gateway.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout))
                {
                    var change = Assert.Single(db.AuditEntries.Where(a => a.Tool == "console_user/admin" && a.Decision == "set_password"));
                    Assert.Equal("console:admin", change.Actor);
                    Assert.DoesNotContain(NewPassword, change.ArgumentsRedacted ?? string.Empty, StringComparison.Ordinal);
                }

                Assert.Contains("id=\"register-server\"", await browser.Client.GetStringAsync("/servers", TestContext.Timeout), StringComparison.Ordinal);
                Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);

                using var signedOut = await browser.PostFormAsync("/", "/console/logout", []);
                Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/servers", TestContext.Timeout)).StatusCode);
                using (var old = await browser.SignInAsync("admin", GatewayHost.BootstrapPassword))
                {
                    Assert.StartsWith("/login?error=local", old.Headers.Location!.OriginalString, StringComparison.Ordinal);
                }
            }

            // Stored as a salted hash only: neither password is anywhere in the database files.
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(directory, "gateway.db*"))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(GatewayHost.BootstrapPassword)));
                Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(NewPassword)));
            }

            // A restart neither re-creates the admin nor resets its password.
            var logs = new List<string>();
            await using (var restarted = await GatewayHost.StartAsync(new Dictionary<string, string?>(), directory, logs))
            {
                using var browser = ConsoleBrowser.For(restarted);
                using var signIn = await browser.SignInAsync("admin", NewPassword, returnUrl: "/agents");
                Assert.Equal("/agents", signIn.Headers.Location!.OriginalString);
                Assert.DoesNotContain(logs, l => l.Contains("created the local user", StringComparison.Ordinal));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task WithoutAConfiguredPassword_AOneTimePasswordIsPrintedOnce()
    {
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Admin:BootstrapPassword"] = "" }, logSink: logs);
        var password = PrintedPassword().Match(string.Join('\n', logs)).Groups[1].Value;
        Assert.Equal(20, password.Length);

        using var browser = ConsoleBrowser.For(gateway);
        using var signIn = await browser.SignInAsync("admin", password);
        Assert.StartsWith("/account/password", signIn.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithOidcConfigured_LocalSignInIsOff_UnlessAskedFor()
    {
        var oidc = new Dictionary<string, string?>
        {
            ["Authentication:Oidc:Authority"] = "https://login.example.invalid/",
            ["Authentication:Oidc:ClientId"] = "gateway",
        };
        await using var gateway = await GatewayHost.StartAsync(oidc);
        using var browser = ConsoleBrowser.For(gateway);

        // No local admin was created; the sign-in page goes straight to the identity provider, and after signing out
        // it offers only single sign-on.
        Assert.False(await gateway.Services.GetRequiredService<IConsoleUserStore>().AnyLocalAsync(TestContext.Timeout));
        using var login = await browser.Client.GetAsync("/login", TestContext.Timeout);
        Assert.Equal("/console/sso?returnUrl=%2F", new Uri(gateway.BaseUri, login.Headers.Location!).PathAndQuery);
        var page = await browser.Client.GetStringAsync("/login?signedOut=true", TestContext.Timeout);
        Assert.Contains("id=\"sso\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"password\"", page, StringComparison.Ordinal);
    }

    private static async Task AssertFieldErrorAsync(ConsoleBrowser browser, string current, string next, string confirm, string field, string message)
    {
        using var response = await browser.ChangePasswordAsync(current, next, confirm);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Matches($"data-field=\"{field}\"[^>]*>{Regex.Escape(message)}<", html);
    }

    [GeneratedRegex(@"one-time password (\S+) \(change it")]
    private static partial Regex PrintedPassword();
}
