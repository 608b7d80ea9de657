using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Credentials;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// Credential mode perUser: each user connects their own account at the upstream's authorization server (the OpenIddict
/// server, code flow with PKCE run by the gateway) while signed in to the console; their calls then carry their account's
/// token, and a user who has not connected gets the link.
/// </summary>
public sealed class PerUserAccountTests : IAsyncLifetime
{
    private const string Secret = "per-user-client-secret-0123456789";

    private TestTokenServer _idp = null!;

    public async Task InitializeAsync() => _idp = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoUsers_ConnectTheirOwnAccounts_AndTheirCallsGetTwoUpstreamIdentities_AUserNotConnectedGetsTheLink(DatabaseProvider provider)
    {
        // A server of its own per engine: the upstream's call log is kept per server name for the whole test run.
        var server = provider == DatabaseProvider.Postgres ? "mail-users-pg" : "mail-users";
        await using var setup = await StartAsync(server, provider);
        var gateway = setup.Gateway;
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());

        // Not connected yet: a JSON-RPC error with the link, and the upstream never sees the call.
        await using (var client = await gateway.ConnectAsync(alice, "2025-11-25"))
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync($"{server}__whoami", cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains($"open {gateway.BaseUri.ToString().TrimEnd('/')}/oauth/connect/{server}", error.Message, StringComparison.Ordinal);
            Assert.Contains("alice has not connected one", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, CallLog.Count(server, "whoami"));

        await ConnectAccountAsync(gateway, server, "alice", "alice@mail.example");
        await ConnectAccountAsync(gateway, server, "bob", "bob@mail.example");

        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, alice, server));
        Assert.Equal("bob@mail.example", await WhoamiAsync(gateway, bob, server));
        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, alice, server));

        // Stored encrypted per user and server: the row holds no token in clear.
        var store = gateway.Services.GetRequiredService<IUserUpstreamTokenStore>();
        Assert.NotNull((await store.FindAsync(server, "alice", TestContext.Timeout))?.RefreshToken);
        Assert.Null(await store.FindAsync(server, "carol", TestContext.Timeout));

        var calls = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall).ToList();
        Assert.Contains(calls, r => r.Actor == "people for alice" && r.Outcome == AuditOutcomes.Error && r.Error!.Contains($"/oauth/connect/{server}", StringComparison.Ordinal));
        Assert.Contains(calls, r => r.Actor == "people for bob" && r.Outcome == AuditOutcomes.Ok);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task RevokingAUser_RefusesTheirAgentsAtOnce_DeletesTheirConnectedAccounts_AndIsAudited(DatabaseProvider provider)
    {
        await using var setup = await StartAsync("mail-revoke", provider);
        var gateway = setup.Gateway;
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());
        await ConnectAccountAsync(gateway, "mail-revoke", "alice", "alice@mail.example");
        await ConnectAccountAsync(gateway, "mail-revoke", "bob", "bob@mail.example");
        Assert.Equal("bob@mail.example", await WhoamiAsync(gateway, bob, "mail-revoke"));
        await using var open = await gateway.ConnectAsync(bob, "2025-11-25");

        using (var revoked = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "bob" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        // The next request of bob's agent, in a session opened before, is refused; nothing reaches the upstream.
        var before = CallLog.Count("mail-revoke", "whoami");
        await Assert.ThrowsAnyAsync<Exception>(() => open.CallToolAsync("mail-revoke__whoami", cancellationToken: TestContext.Timeout).AsTask());
        using (var refused = await RawPostAsync(gateway, bob))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("User 'bob' was revoked by an admin", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(before, CallLog.Count("mail-revoke", "whoami"));

        // Bob's stored account is gone; alice is untouched.
        var store = gateway.Services.GetRequiredService<IUserUpstreamTokenStore>();
        Assert.Null(await store.FindAsync("mail-revoke", "bob", TestContext.Timeout));
        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, alice, "mail-revoke"));
        var change = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.AdminChange && r.Tool == "user/bob");
        Assert.Equal("admin-api", change.Actor);

        // Restored, bob's agents may call again, and bob connects again to reach the upstream.
        using (var restored = await gateway.Admin.DeleteAsync("/api/v1/users/revoked/bob", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, restored.StatusCode);
        }

        await using var again = await gateway.ConnectAsync(bob, "2025-11-25");
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => again.CallToolAsync("mail-revoke__whoami", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("bob has not connected one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConnectionStartedByOneUser_IsNotCompletedInAnotherUsersBrowser_NorWithoutASignIn()
    {
        await using var setup = await StartAsync("mail-handoff");
        var gateway = setup.Gateway;
        var mallory = await _idp.UserTokenAsync(Secret, "mallory", gateway.McpUri.ToString());

        // Mallory opens her connect link and passes the upstream's sign-in page on; Victor signs in there with his own
        // account, and his browser (signed in to the console as victor) brings the code back.
        using var malloryBrowser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "mallory", "Approver");
        using var victorBrowser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "victor", "Approver");
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.BaseUri };
        foreach (var completing in new[] { victorBrowser.Client, anonymous })
        {
            using var start = await malloryBrowser.Client.GetAsync("/oauth/connect/mail-handoff", TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
            _idp.NextSubject = "victor@mail.example";
            using var idpBrowser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            using var signedIn = await idpBrowser.GetAsync(start.Headers.Location, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);

            using var callback = await completing.GetAsync(signedIn.Headers.Location, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
            Assert.Contains("started by another console user, or in another browser", await callback.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        // Nothing was stored for Mallory: her agent still gets the connect link, and the upstream saw no call.
        Assert.Null(await gateway.Services.GetRequiredService<IUserUpstreamTokenStore>().FindAsync("mail-handoff", "mallory", TestContext.Timeout));
        await using (var client = await gateway.ConnectAsync(mallory, "2025-11-25"))
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("mail-handoff__whoami", cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("/oauth/connect/mail-handoff", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, CallLog.Count("mail-handoff", "whoami"));
    }

    [Fact]
    public async Task TheConnectLink_NeedsAConsoleSignIn_AndServesOnlyPerUserServers()
    {
        await using var setup = await StartAsync("mail-link");
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = setup.Gateway.BaseUri };
        using (var response = await anonymous.GetAsync("/oauth/connect/mail-link", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login?returnUrl=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(setup.Gateway, "alice", "Approver");
        using var unknown = await browser.Client.GetAsync("/oauth/connect/no-such-server", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task AConnectedAccountTheUpstreamNoLongerHonours_InvalidGrant_GetsTheConnectLinkWithWhy_AndNothingIsForwarded()
    {
        await using var setup = await StartAsync("mail-gone");
        var gateway = setup.Gateway;
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        await ConnectAccountAsync(gateway, "mail-gone", "alice", "alice@mail.example");

        // The upstream's authorization server disabled the account before the gateway's first refresh with it.
        _idp.DisabledUsers["alice@mail.example"] = true;
        await using var client = await gateway.ConnectAsync(alice, "2025-11-25");
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("mail-gone__whoami", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains(
            "alice has not connected one that still works (the upstream's authorization server no longer accepts their refresh token (invalid_grant): the account may be disabled there or its access withdrawn)",
            error.Message,
            StringComparison.Ordinal);
        Assert.Contains($"open {gateway.BaseUri.ToString().TrimEnd('/')}/oauth/connect/mail-gone", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, CallLog.Count("mail-gone", "whoami"));
    }

    [Fact]
    public async Task TheCacheOfUsersTokens_IsBounded_ANewUserBeyondItEmptiesIt_AndEveryoneKeepsTheirOwnIdentity()
    {
        await using var setup = await StartAsync("mail-bound");
        var gateway = setup.Gateway;
        var accounts = gateway.Services.GetRequiredService<Gateway.Web.Credentials.Users.UserAccounts>();
        accounts.Capacity = 2;
        var tokens = new Dictionary<string, string>();
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            tokens[user] = await _idp.UserTokenAsync(Secret, user, gateway.McpUri.ToString());
            await ConnectAccountAsync(gateway, "mail-bound", user, user + "@mail.example");
        }

        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, tokens["alice"], "mail-bound"));
        Assert.Equal("bob@mail.example", await WhoamiAsync(gateway, tokens["bob"], "mail-bound"));
        Assert.Equal(2, accounts.Count);

        // At the bound, a cached user's next call costs no refresh.
        var issued = _idp.Issued;
        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, tokens["alice"], "mail-bound"));
        Assert.Equal(issued, _idp.Issued);

        // A third user empties the cache first, so it never holds more than its bound...
        Assert.Equal("carol@mail.example", await WhoamiAsync(gateway, tokens["carol"], "mail-bound"));
        Assert.Equal(1, accounts.Count);

        // ...and alice's next call reads her row again and refreshes, still as herself.
        issued = _idp.Issued;
        Assert.Equal("alice@mail.example", await WhoamiAsync(gateway, tokens["alice"], "mail-bound"));
        Assert.Equal(issued + 1, _idp.Issued);
        Assert.Equal(2, accounts.Count);
    }

    /// <summary>A gateway with a per-user server, and the upstream behind it.</summary>
    internal sealed record Setup(GatewayHost Gateway, Microsoft.AspNetCore.Builder.WebApplication Upstream) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    internal async Task<Setup> StartAsync(string server, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (app, url) = await StartHttpAsync(server, gate: gate);
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        gate.ProtectedResourceMetadata = JsonSerializer.Serialize(new { resource = url, authorization_servers = new[] { _idp.Issuer } });
        var gateway = await GatewayHost.StartAsync(provider, Merge(
            Http(server, url),
            Agent("people", "per-user-agent-key-0123456789", $"{server}/*"),
            new Dictionary<string, string?>
            {
                [$"Gateway:Servers:{server}:CredentialMode"] = "perUser",
                [$"Gateway:Servers:{server}:Credential:Kind"] = "oauth",
                [$"Gateway:Servers:{server}:Credential:ClientId"] = "gateway-code",
                [$"Gateway:Servers:{server}:Credential:Secret"] = Secret,
                [$"Gateway:Servers:{server}:Credential:TokenEndpoint"] = _idp.TokenEndpoint,
                ["Gateway:OAuth:AllowHttp"] = "true",
                ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
                ["Gateway:AgentOAuth:Issuer"] = _idp.Issuer,
                ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
                ["Gateway:AgentOAuth:DefaultAgent"] = "people",
            }));
        await _idp.RegisterCodeClientAsync(Secret, new Uri(gateway.BaseUri, "/oauth/callback").ToString(), clientCredentials: true);
        await gateway.WaitForToolAsync($"{server}__whoami");
        return new Setup(gateway, app);
    }

    /// <summary>The user signs in to the console, opens the connect link, and signs in at the upstream's authorization server as <paramref name="upstreamIdentity"/>.</summary>
    internal async Task ConnectAccountAsync(GatewayHost gateway, string server, string user, string upstreamIdentity)
    {
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, user, "Approver");
        using var start = await browser.Client.GetAsync("/oauth/connect/" + server, TestContext.Timeout);
        Assert.True(start.StatusCode == HttpStatusCode.Redirect, $"{start.StatusCode}: {await start.Content.ReadAsStringAsync(TestContext.Timeout)}");
        var authorize = start.Headers.Location!.ToString();
        Assert.Contains("code_challenge_method=S256", authorize, StringComparison.Ordinal);

        _idp.NextSubject = upstreamIdentity;
        using var idpBrowser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var signedIn = await idpBrowser.GetAsync(authorize, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        using var callback = await browser.Client.GetAsync(signedIn.Headers.Location, TestContext.Timeout);
        var text = await callback.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(callback.StatusCode == HttpStatusCode.OK, text);
        Assert.Contains($"made for {user} now use this account", text, StringComparison.Ordinal);
    }

    internal static async Task<HttpResponseMessage> RawPostAsync(GatewayHost gateway, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var http = new HttpClient();
        return await http.SendAsync(request, TestContext.Timeout);
    }

    internal static async Task<string> WhoamiAsync(GatewayHost gateway, string token, string server)
    {
        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        var result = await client.CallToolAsync(server + "__whoami", cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return ((TextContentBlock)Assert.Single(result.Content)).Text;
    }
}
