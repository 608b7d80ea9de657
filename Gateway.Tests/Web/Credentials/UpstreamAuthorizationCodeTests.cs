using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>An admin authorizes the gateway at an upstream's authorization server (code flow with PKCE); the refresh token becomes the credential.</summary>
public sealed class UpstreamAuthorizationCodeTests
{
    private const string AgentKey = "code-agent-key-0123456789";
    private const string ClientSecret = "code-client-secret-0123456789";

    [Fact]
    public async Task AuthorizationCodeWithPkce_StoresTheRefreshToken_WithSingleUseStateAndIssuerCheck()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartProtectedUpstreamAsync(tokens);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("agent", AgentKey, "*/*"), LoopbackOAuth));
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "coded", transport = "http", url }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        // A response claiming another issuer is refused (RFC 9207), and its state is spent.
        var first = await StartAsync(gateway);
        await tokens.RegisterCodeClientAsync(ClientSecret, first.GetProperty("redirectUri").GetString()!);
        var callback = await AuthorizeAsync(browser, first);
        var forged = callback.Replace("iss=", "iss=https%3A%2F%2Fevil.example%2F&was=", StringComparison.Ordinal);
        using (var refused = await browser.GetAsync(forged, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("not '" + tokens.Issuer + "'", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using (var replay = await browser.GetAsync(callback, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        }

        // A token endpoint answering an HTML error page: the callback says so (400), it does not fail (500).
        tokens.TokenEndpointBroken = true;
        var broken = await AuthorizeAsync(browser, await StartAsync(gateway));
        using (var refused = await browser.GetAsync(broken, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("refused the authorization code: 502 (no OAuth error)", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        tokens.TokenEndpointBroken = false;

        // The real flow: the code is redeemed with the PKCE verifier and the refresh token stored.
        var second = await StartAsync(gateway);
        Assert.Contains("code_challenge_method=S256", second.GetProperty("authorizationUrl").GetString(), StringComparison.Ordinal);
        var good = await AuthorizeAsync(browser, second);
        using (var done = await browser.GetAsync(good, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }

        await gateway.WaitForToolAsync("coded__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);
        var echo = await agent.CallToolAsync("coded__echo", new Dictionary<string, object?> { ["message"] = "authorized" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("echo: authorized", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        var described = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/coded", TestContext.Timeout);
        Assert.Equal("refreshToken", described.GetProperty("credential").GetProperty("kind").GetString());
        using (var again = await browser.GetAsync(good, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        }
    }

    [Fact]
    public async Task ASecretInTheUpstreamUrlsQuery_StaysOutOfTheAuthorizationUrl_AndOutOfEveryResourceSent()
    {
        // The upstream takes a key in its query string and publishes its metadata for its URL without it (RFC 9728).
        // The key went into the authorization URL (the admin's browser, the authorization server's logs) and the token
        // request as the resource, and that metadata was refused as being about another resource.
        const string QuerySecret = "query-secret-0123456789";
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartProtectedUpstreamAsync(tokens);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("agent", AgentKey, "*/*"), LoopbackOAuth));
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "coded", transport = "http", url = url + "?api_key=" + QuerySecret }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var started = await StartAsync(gateway);
        var authorizationUrl = started.GetProperty("authorizationUrl").GetString()!;
        Assert.DoesNotContain(QuerySecret, authorizationUrl, StringComparison.Ordinal);
        Assert.Contains("resource=" + Uri.EscapeDataString(url) + "&", authorizationUrl + "&", StringComparison.Ordinal);
        await tokens.RegisterCodeClientAsync(ClientSecret, started.GetProperty("redirectUri").GetString()!);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using (var done = await browser.GetAsync(await AuthorizeAsync(browser, started), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }

        await gateway.WaitForToolAsync("coded__echo");
        await using var agent = await gateway.ConnectAsync(AgentKey);
        var echo = await agent.CallToolAsync("coded__echo", new Dictionary<string, object?> { ["message"] = "keyed" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("echo: keyed", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        Assert.NotEmpty(tokens.Resources);
        Assert.All(tokens.Resources, resource => Assert.Equal(url, resource));
    }

    [Fact]
    public async Task StartedByAConsoleUser_CompletesOnlyInThatUsersBrowser()
    {
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartProtectedUpstreamAsync(tokens);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(LoopbackOAuth);
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "coded", transport = "http", url }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var admin = ConsoleBrowser.For(gateway);
        await admin.SignInAsAdminAsync();
        using var colleague = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "colleague", Gateway.Core.Identity.ConsoleRoles.Admin);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var upstreamSignIn = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        await tokens.RegisterCodeClientAsync(ClientSecret, new Uri(gateway.BaseUri, "/oauth/callback").ToString());

        // The admin starts it with their console sign-in; the URL is then completed elsewhere: in a browser signed in
        // to no console, and in a colleague's. Both are refused, and each spends its state.
        foreach (var elsewhere in new[] { anonymous, colleague.Client })
        {
            var started = await StartAsync(admin.Client);
            var callback = await AuthorizeAsync(upstreamSignIn, started);
            using var refused = await elsewhere.GetAsync(new Uri(gateway.BaseUri, callback), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("started by another console user", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
            using var thenByTheAdmin = await admin.Client.GetAsync(callback, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.BadRequest, thenByTheAdmin.StatusCode);
        }

        var stored = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/coded", TestContext.Timeout);
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("credential").ValueKind);

        // Started by the colleague, who is no longer an Admin when the callback comes: their own browser completes
        // nothing (the credential is an admin change of theirs, made now).
        var demoted = await StartAsync(colleague.Client);
        var users = gateway.Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>();
        Assert.Equal(Gateway.Core.Identity.AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync((await users.FindAsync("colleague", TestContext.Timeout))!.Id, [Gateway.Core.Identity.ConsoleRoles.Auditor], enabled: null, TestContext.Timeout)).Outcome);
        using (var notNow = await colleague.Client.GetAsync(await AuthorizeAsync(upstreamSignIn, demoted), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notNow.StatusCode);
            Assert.Contains("was not stored", await notNow.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(JsonValueKind.Null, (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/coded", TestContext.Timeout)).GetProperty("credential").ValueKind);

        // In the admin's own browser it completes.
        var own = await StartAsync(admin.Client);
        var back = await AuthorizeAsync(upstreamSignIn, own);
        using (var done = await admin.Client.GetAsync(back, TestContext.Timeout))
        {
            Assert.True(done.StatusCode == HttpStatusCode.OK, await done.Content.ReadAsStringAsync(TestContext.Timeout));
        }

        var described = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/coded", TestContext.Timeout);
        Assert.Equal("refreshToken", described.GetProperty("credential").GetProperty("kind").GetString());

        // Audited as the admin's own change, under the console's name for them.
        var changes = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == Gateway.Core.Audit.AuditKinds.AdminChange && r.Tool == "server_credential/coded").ToList();
        Assert.Equal(["console:admin"], changes.Select(r => r.Actor).Distinct());
    }

    [SkippableTheory]
    [MemberData(nameof(Gateway.Tests.Data.DatabaseEngines.Both), MemberType = typeof(Gateway.Tests.Data.DatabaseEngines))]
    public async Task TheCallback_MayReachAnotherInstance_WhichCompletesIt_AndItsStateOpensOnceAcrossThem(Gateway.Data.DatabaseProvider provider)
    {
        Gateway.Tests.Data.DatabaseEngines.Require(provider);
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(30));
        var (upstream, url) = await StartProtectedUpstreamAsync(tokens);
        await using var running = upstream;
        await using var shared = await SharedDatabase.CreateAsync(provider, "oauthcb");
        var settings = shared.Settings(Agent("agent", AgentKey, "*/*"), LoopbackOAuth);
        await using var first = await GatewayHost.StartAsync(settings);
        await using var second = await GatewayHost.StartAsync(settings);
        using (var created = await first.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "coded", transport = "http", url }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Started on the first instance; the balancer sends the browser's callback to the second.
        var started = await StartAsync(first);
        await tokens.RegisterCodeClientAsync(ClientSecret, started.GetProperty("redirectUri").GetString()!);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var callback = new UriBuilder(await AuthorizeAsync(browser, started)) { Host = second.BaseUri.Host, Port = second.BaseUri.Port }.Uri;

        // An altered state does not open (and spends nothing).
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query);
        var state = query["state"].ToString();
        var altered = callback.ToString().Replace(Uri.EscapeDataString(state), Uri.EscapeDataString(state[..^4] + (state[^4..] == "AAAA" ? "BBBB" : "AAAA")), StringComparison.Ordinal);
        Assert.NotEqual(callback.ToString(), altered);
        using (var refused = await browser.GetAsync(altered, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("Unknown, used or expired authorization state", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using (var done = await browser.GetAsync(callback, TestContext.Timeout))
        {
            var text = await done.Content.ReadAsStringAsync(TestContext.Timeout);
            Assert.True(done.StatusCode == HttpStatusCode.OK, text);
        }

        // Stored for the cluster: both instances connect with it. They refresh the one rotating refresh token in turn
        // (each with the newest stored one), so neither is refused a token the other spent.
        var described = await first.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/coded", TestContext.Timeout);
        Assert.Equal("refreshToken", described.GetProperty("credential").GetProperty("kind").GetString());
        foreach (var instance in new[] { second, first })
        {
            await instance.WaitForToolAsync("coded__echo");
            await using var agent = await instance.ConnectAsync(AgentKey);
            var echo = await agent.CallToolAsync("coded__echo", new Dictionary<string, object?> { ["message"] = "across" }, cancellationToken: TestContext.Timeout);
            Assert.Contains("echo: across", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
        }

        // Spent on the second, refused on the first.
        var replay = new UriBuilder(callback) { Host = first.BaseUri.Host, Port = first.BaseUri.Port }.Uri;
        using var again = await browser.GetAsync(replay, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    /// <summary>
    /// An upstream whose OAuth metadata never comes (the request is taken, no answer is sent): starting the authorization
    /// answers within the server's ConnectTimeout with the reason, instead of holding the admin's request open.
    /// </summary>
    [Fact]
    public async Task MetadataThatNeverComes_EndsTheStartWithinTheConnectTimeout_WithTheReason()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var silent = builder.Build();
        silent.MapGet("/.well-known/{**rest}", async (HttpContext context) => await Task.Delay(Timeout.Infinite, context.RequestAborted));
        await silent.StartAsync(TestContext.Timeout);
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("agent", AgentKey, "*/*"), LoopbackOAuth));
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "coded", transport = "http", url = silent.Urls.First().TrimEnd('/') + "/mcp", connectTimeoutSeconds = 2 }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await gateway.Admin.PostAsJsonAsync("/api/v1/servers/coded/oauth/authorize", new { clientId = "gateway-code", clientSecret = ClientSecret }, TestContext.Timeout);
        clock.Stop();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("The OAuth metadata of 'coded' could not be read within 2 s", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"answered after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The test authorization server and upstream are on loopback over plain http.</summary>
    private static readonly Dictionary<string, string?> LoopbackOAuth = new()
    {
        ["Gateway:OAuth:AllowHttp"] = "true",
        ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
    };

    /// <summary>The upstream <c>coded</c>, protected by <paramref name="tokens"/> (its metadata names them; it checks their tokens).</summary>
    private static async Task<(Microsoft.AspNetCore.Builder.WebApplication Upstream, string Url)> StartProtectedUpstreamAsync(TestTokenServer tokens)
    {
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("coded", gate: gate);
        gate.ProtectedResourceMetadata = JsonSerializer.Serialize(new { resource = url, authorization_servers = new[] { tokens.Issuer } });
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        return (upstream, url);
    }

    private static Task<JsonElement> StartAsync(GatewayHost gateway) => StartAsync(gateway.Admin);

    /// <summary>Starts the flow with the admin key, or with a console user's cookie (the client's).</summary>
    private static async Task<JsonElement> StartAsync(HttpClient admin)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/servers/coded/oauth/authorize", new { clientId = "gateway-code", clientSecret = ClientSecret }, TestContext.Timeout);
        var body = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The admin's browser at the authorization server: returns where it is sent back to (the gateway's callback).</summary>
    private static async Task<string> AuthorizeAsync(HttpClient browser, JsonElement started)
    {
        using var response = await browser.GetAsync(started.GetProperty("authorizationUrl").GetString(), TestContext.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.Found, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Timeout)}");
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith(started.GetProperty("redirectUri").GetString()!, location, StringComparison.Ordinal);
        Assert.Contains("iss=", location, StringComparison.Ordinal);
        return location;
    }
}
