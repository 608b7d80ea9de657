using System.Net;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>The console is served with the gateway, behind a sign-in (antiforgery-protected form, HttpOnly cookie).</summary>
public sealed partial class ConsoleSignInTests
{
    [Fact]
    public async Task Console_RequiresSignIn_AndThenShowsEveryPage()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Http("offline", "http://127.0.0.1:9/mcp")));
        await gateway.WaitForToolAsync("files__echo");
        using var browser = ConsoleBrowser.For(gateway);

        using var anonymous = await browser.Client.GetAsync("/", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login", anonymous.Headers.Location!.PathAndQuery, StringComparison.Ordinal);

        await browser.SignInAsAdminAsync();
        var logins = (await gateway.AuditTrailAsync()).Where(e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ConsoleLogin).ToList();
        Assert.Equal(("admin", "ok"), (Assert.Single(logins).Record.Actor, logins[0].Record.Outcome));
        var cookie = browser.Cookies.GetCookies(gateway.BaseUri).Single(c => c.Name == "mcpgw.console");
        Assert.True(cookie.HttpOnly);

        var dashboard = await browser.Client.GetStringAsync("/", TestContext.Timeout);
        Assert.Matches(@"id=""servers-connected""[^>]*>1 / 2<", dashboard);
        Assert.Contains(">files", dashboard, StringComparison.Ordinal);
        Assert.Contains(">offline", dashboard, StringComparison.Ordinal);
        var servers = await browser.Client.GetStringAsync("/servers", TestContext.Timeout);
        Assert.Contains("files__echo", servers, StringComparison.Ordinal);

        // Every page renders in the real host (its services resolve): the prerendered markup carries each page's own element.
        Assert.Contains("id=\"register-server\"", servers, StringComparison.Ordinal);
        Assert.Contains("id=\"create-agent\"", await browser.Client.GetStringAsync("/agents", TestContext.Timeout), StringComparison.Ordinal);
        Assert.Contains("id=\"explain\"", await browser.Client.GetStringAsync("/policies", TestContext.Timeout), StringComparison.Ordinal);
        Assert.Contains("Approvals", await browser.Client.GetStringAsync("/approvals", TestContext.Timeout), StringComparison.Ordinal);
        Assert.Contains("id=\"user-table\"", await browser.Client.GetStringAsync("/settings", TestContext.Timeout), StringComparison.Ordinal);
        Assert.Contains("id=\"audit-table\"", await browser.Client.GetStringAsync("/audit", TestContext.Timeout), StringComparison.Ordinal);

        using var signOut = await browser.PostFormAsync("/", "/console/logout", []);
        Assert.Equal("/login?signedOut=true", signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task SignIn_WithoutTheAntiforgeryToken_IsRejected()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);

        using var response = await browser.PostFormAsync("/login", "/console/login", new() { ["userName"] = "admin", ["password"] = GatewayHost.BootstrapPassword }, withHiddenFields: false);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "mcpgw.console");
    }

    [Fact]
    public async Task SignIn_WithABodyOverItsBound_Is413_AndAtTheBoundStillASignInAttempt()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);

        // Over the bound: refused before the form is read, nobody signed in.
        var over = new string('a', Microsoft.Extensions.DependencyInjection.ConsoleIdentityExtensions.MaxSignInBodyBytes);
        using (var refused = await browser.PostFormAsync("/login", "/console/login", new() { ["userName"] = over, ["password"] = "x" }))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        }

        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "mcpgw.console");

        // A long name well inside the bound is read and refused as a wrong sign-in (back to the page), not as a bad request.
        using var wrong = await browser.PostFormAsync("/login", "/console/login", new() { ["userName"] = new string('a', 8 * 1024), ["password"] = "x" });
        Assert.Equal(HttpStatusCode.Redirect, wrong.StatusCode);
        Assert.StartsWith("/login?error=local", wrong.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Audited, without the name tried: it is no user's (anyone may type anything, and the chain keeps it).
        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var refusal = (await gateway.AuditTrailAsync()).Select(e => e.Record).Last(r => r.Kind == Gateway.Core.Audit.AuditKinds.ConsoleLogin && r.Outcome == Gateway.Core.Audit.AuditOutcomes.Denied);
        Assert.Equal("local sign-in refused for a name that is no user's from 127.0.0.1", refusal.Error);
    }

    [Fact]
    public async Task ARefusedSignIn_IsAuditedWithTheNameTried_OnlyWhenItIsAUsers()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);

        // A password typed in the name field, then a wrong password for a real user.
        const string typedPassword = "Tr0ub4dor&3-correct-horse";
        foreach (var (name, password) in new[] { (typedPassword, "x"), (" admin ", "wrong password") })
        {
            using var refused = await browser.PostFormAsync("/login", "/console/login", new() { ["userName"] = name, ["password"] = password });
            Assert.StartsWith("/login?error=local", refused.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var trail = await gateway.AuditTrailAsync();
        var refusals = trail.Select(e => e.Record).Where(r => r.Kind == Gateway.Core.Audit.AuditKinds.ConsoleLogin && r.Outcome == Gateway.Core.Audit.AuditOutcomes.Denied).Select(r => r.Error).ToList();
        Assert.Equal(["local sign-in refused for a name that is no user's from 127.0.0.1", "local sign-in refused for 'admin' from 127.0.0.1"], refusals);
        Assert.DoesNotContain(trail, e => System.Text.Json.JsonSerializer.Serialize(e.Record).Contains("Tr0ub4dor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAConfiguredKey_AKeyIsGenerated_AndOpensTheApi()
    {
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Admin:ApiKey"] = "" }, logSink: logs);
        var key = GeneratedKey().Match(string.Join('\n', logs)).Groups[1].Value;
        Assert.True(Gateway.Core.Agents.ApiKeys.HasValidChecksum(key), "no generated key in the log");

        using var api = new HttpClient { BaseAddress = gateway.BaseUri };
        api.DefaultRequestHeaders.Authorization = new("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
        api.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task AuditExport_DownloadsAZipThatVerifiesOffline_OnlyForAdminsAndAuditors()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var browser = ConsoleBrowser.For(gateway);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/console/audit/export", TestContext.Timeout)).StatusCode);
        using var approver = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "april", Gateway.Core.Identity.ConsoleRoles.Approver);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.Client.GetAsync("/console/audit/export", TestContext.Timeout)).StatusCode);

        await browser.SignInAsAdminAsync();
        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        using var download = await browser.Client.GetAsync("/console/audit/export?format=jsonl", TestContext.Timeout);
        Assert.Equal("application/zip", download.Content.Headers.ContentType!.MediaType);
        var folder = Path.Combine(gateway.Directory, "download");
        using (var zip = new System.IO.Compression.ZipArchive(await download.Content.ReadAsStreamAsync(TestContext.Timeout)))
        {
            System.IO.Compression.ZipFileExtensions.ExtractToDirectory(zip, folder);
        }

        var entries = Directory.GetFiles(folder, "*.jsonl").Single(f => !f.EndsWith(".checkpoints.jsonl", StringComparison.Ordinal));
        Assert.Contains("console_login", await File.ReadAllTextAsync(entries, TestContext.Timeout), StringComparison.Ordinal);
        var (exit, output, _) = await Gateway.Tests.Web.Audit.AuditTrailFixture.RunAsync("verify", "--file", entries);
        Assert.True(exit == 0, output);

        var csv = await browser.Client.GetStringAsync("/console/audit/export?format=csv&agent=admin", TestContext.Timeout);
        Assert.StartsWith("sequence,timestamp,kind,actor", csv, StringComparison.Ordinal);

        // A database that fails while the download reads it: 503 with Retry-After, as the API answers, not a 500.
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE AuditCheckpoints RENAME TO AuditCheckpointsAway");
        using (var failing = await browser.Client.GetAsync("/console/audit/export?format=jsonl", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), failing.Headers.RetryAfter?.Delta);
        }

        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE AuditCheckpointsAway RENAME TO AuditCheckpoints");
        using var again = await browser.Client.GetAsync("/console/audit/export?format=jsonl", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [GeneratedRegex(@"(mgw_[A-Za-z0-9]+_[A-Za-z0-9]{6})")]
    private static partial Regex GeneratedKey();
}
