using System.Net;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.OAuthFlow;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// The consent page of the gateway's authorization server: a client that registered itself (or that a metadata
/// document describes) names itself and where codes go, so a signed-in user following a link must allow it before a
/// code leaves (the confused deputy of the MCP security best practices). Real gateway, real HTTP, the console's cookie.
/// </summary>
public sealed class OAuthConsentTests
{
    private const string OtherRedirectUri = "http://127.0.0.1:9/other";

    private static Dictionary<string, string?> Settings()
    {
        var settings = AuthorizationServerTests.Settings();
        settings["Gateway:AgentOAuth:Scopes:1"] = "extra";
        return settings;
    }

    [Fact]
    public async Task ASignedInUser_IsAskedBeforeACodeLeaves_ThePageNamesTheClientAndWhereTheCodeGoes_AndTheAnswerIsRemembered()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        var clientId = await RegisterAsync(gateway.BaseUri, "Totally Legit Client");
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "dana", "Auditor");
        var (verifier, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);

        // Signed in, yet no code: the consent page first.
        var consentPage = await ConsentPageOfAsync(browser, parameters);
        using (var page = await browser.Client.GetAsync(consentPage, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);

            // Not to be framed by another site (a disguised Allow button).
            Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
            Assert.Equal("frame-ancestors 'none'", Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
            var html = await page.Content.ReadAsStringAsync(TestContext.Timeout);
            Assert.Contains("Totally Legit Client", html, StringComparison.Ordinal);
            Assert.Contains("registered itself", html, StringComparison.Ordinal);
            Assert.Contains(clientId, html, StringComparison.Ordinal);
            Assert.Contains($"<code>{RedirectUri}</code>", html, StringComparison.Ordinal);
            Assert.Contains("<code>mcp</code>", html, StringComparison.Ordinal);
            Assert.Contains("<code>offline_access</code>", html, StringComparison.Ordinal);
            Assert.Contains("<b id=\"consent-user\">dana</b>", html, StringComparison.Ordinal);

            // The agent profile its calls act as (the default agent: no agent is named after a registered client id).
            Assert.Contains("the agent profile <b>oauth-agents</b>", html, StringComparison.Ordinal);
            Assert.Contains("<code>oauth-agents for dana</code>", html, StringComparison.Ordinal);
        }

        var answer = await AuthorizeAsync(browser.Client, parameters);
        Assert.Equal("state-1", answer["state"]);
        var (status, _) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, gateway.McpUri);
        Assert.Equal(HttpStatusCode.OK, status);

        // Remembered: the next sign-in through the same client goes straight back with a code.
        var (verifier2, challenge2) = Pkce();
        using (var again = await browser.Client.GetAsync(AuthorizePath(AuthorizeParameters(clientId, challenge2, gateway.McpUri, "state-2")), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
            var location = again.Headers.Location!.OriginalString;
            Assert.StartsWith(RedirectUri + "?", location, StringComparison.Ordinal);
            var code = QueryHelpers.ParseQuery(new Uri(location).Query)["code"].ToString();
            Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(gateway.BaseUri, clientId, code, verifier2, gateway.McpUri)).Status);
        }

        // prompt=consent asks again; allowing again keeps one consent (the earlier tokens stay valid).
        var forced = AuthorizeParameters(clientId, challenge2, gateway.McpUri);
        forced["prompt"] = "consent";
        await ConsentPageOfAsync(browser, forced);
        Assert.True((await AuthorizeAsync(browser.Client, forced)).ContainsKey("code"));
        Assert.Equal(1, await ConsentsOfAsync(gateway, clientId));
        Assert.Equal(1, await StoredConsentsAsync(gateway));

        // Each answer in the audit trail under the user who gave it.
        var trail = await gateway.AuditTrailAsync();
        var entries = trail.Where(e => e.Record.Kind == AuditKinds.AdminChange && e.Record.Tool == $"oauth_consent/dana/{clientId}").ToList();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal(("console:dana", "grant"), (e.Record.Actor, e.Record.Decision)));
        Assert.Contains(RedirectUri, entries[0].Record.ArgumentsRedacted, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyThePagesOwnForm_AnswersForTheUser_NotALink_NorAPostWithoutItsToken()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        var clientId = await RegisterAsync(gateway.BaseUri);
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "erin", "Auditor");
        var (_, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);

        // A link carrying the answer is only a request: the page is shown.
        var linked = new Dictionary<string, string?>(parameters) { ["consent"] = "allow" };
        var consentPage = await ConsentPageOfAsync(browser, linked);
        Assert.DoesNotContain("consent=", consentPage, StringComparison.Ordinal);

        // A post without the page's antiforgery token (another site's form) is refused, and gives nothing.
        using (var forged = await AnswerConsentAsync(browser.Client, consentPage, "allow", withAntiforgeryToken: false))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        // With the token, an answer that is neither allow nor deny is refused too.
        using (var unclear = await AnswerConsentAsync(browser.Client, consentPage, "maybe"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unclear.StatusCode);
        }

        await ConsentPageOfAsync(browser, parameters);
        Assert.DoesNotContain(await gateway.AuditTrailAsync(), e => e.Record.Tool?.StartsWith("oauth_consent/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Deny_SendsAccessDeniedToTheClientWithItsState_AndTheUserIsAskedAgainNextTime()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        var clientId = await RegisterAsync(gateway.BaseUri);
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "finn", "Auditor");
        var (_, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);

        var answer = await AuthorizeAsync(browser.Client, parameters, consent: "deny");
        Assert.Equal("access_denied", answer["error"]);
        Assert.Equal("state-1", answer["state"]);
        Assert.False(answer.ContainsKey("code"));

        await ConsentPageOfAsync(browser, parameters);
    }

    [Fact]
    public async Task PromptNone_WithoutSignIn_OrWithoutConsent_IsAnErrorForTheClient_NotAPage()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        var clientId = await RegisterAsync(gateway.BaseUri);
        var (_, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        parameters["prompt"] = "none";

        using (var anonymous = ConsoleBrowser.For(gateway))
        {
            Assert.Equal("login_required", (await AuthorizeAsync(anonymous.Client, parameters))["error"]);
        }

        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "gail", "Auditor");
        Assert.Equal("consent_required", (await AuthorizeAsync(browser.Client, parameters))["error"]);

        // Once allowed, a silent request gets its code.
        var allowed = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        Assert.True((await AuthorizeAsync(browser.Client, allowed)).ContainsKey("code"));
        Assert.True((await AuthorizeAsync(browser.Client, parameters)).ContainsKey("code"));
    }

    [Fact]
    public async Task AConsent_CoversItsRedirectUriAndItsScopes_AnotherRedirectUriOrAWiderScopeAsksAgain()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        string clientId;
        using (var http = new HttpClient { BaseAddress = gateway.BaseUri })
        using (var registered = await http.PostAsync("/oauth/register", JsonBody(new { client_name = "two doors", redirect_uris = new[] { RedirectUri, OtherRedirectUri } }), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            using var document = JsonDocument.Parse(await registered.Content.ReadAsStringAsync(TestContext.Timeout));
            clientId = document.RootElement.GetProperty("client_id").GetString()!;
        }

        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "hank", "Auditor");
        var (_, challenge) = Pkce();
        Assert.True((await AuthorizeAsync(browser.Client, AuthorizeParameters(clientId, challenge, gateway.McpUri))).ContainsKey("code"));

        // The same client sending the code elsewhere: asked again, and the page names the other address.
        var elsewhere = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        elsewhere["redirect_uri"] = OtherRedirectUri;
        var page = await browser.Client.GetStringAsync(await ConsentPageOfAsync(browser, elsewhere), TestContext.Timeout);
        Assert.Contains($"<code>{OtherRedirectUri}</code>", page, StringComparison.Ordinal);

        // A wider scope: asked again; once allowed, it covers the narrower one too.
        var wider = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        wider["scope"] = "mcp extra";
        await ConsentPageOfAsync(browser, wider);
        Assert.True((await AuthorizeAsync(browser.Client, wider)).ContainsKey("code"));
        Assert.Equal(2, (await gateway.AuditTrailAsync()).Count(e => e.Record.Tool == $"oauth_consent/hank/{clientId}" && e.Record.Decision == "grant"));
        using var narrower = await browser.Client.GetAsync(AuthorizePath(AuthorizeParameters(clientId, challenge, gateway.McpUri)), TestContext.Timeout);
        Assert.StartsWith(RedirectUri + "?", narrower.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnAdminWithdrawsAClientsConsents_ItsRefreshTokenIsRefused_AndItsUserIsAskedAgain(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Settings());
        var clientId = await RegisterAsync(gateway.BaseUri);
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "iris", "Auditor");
        var (verifier, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        var answer = await AuthorizeAsync(browser.Client, parameters);
        var (status, tokens) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, gateway.McpUri);
        Assert.Equal(HttpStatusCode.OK, status);

        Assert.Equal(1, await ConsentsOfAsync(gateway, clientId));
        using (var admin = ConsoleBrowser.For(gateway))
        {
            // The console's OAuth clients page shows it too, with the admin's Withdraw (the same operation as the API's).
            await admin.SignInAsAdminAsync();
            var page = await admin.Client.GetStringAsync("/oauth-clients", TestContext.Timeout);
            Assert.Contains("class=\"oauth-client-consents\">1 user</span>", page, StringComparison.Ordinal);
            Assert.Contains("withdraw-consents", page, StringComparison.Ordinal);
        }

        using (var withdrawn = await gateway.Admin.DeleteAsync("/api/v1/oauth-clients/consents?clientId=" + Uri.EscapeDataString(clientId), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
            using var body = JsonDocument.Parse(await withdrawn.Content.ReadAsStringAsync(TestContext.Timeout));
            Assert.Equal(1, body.RootElement.GetProperty("withdrawn").GetInt32());
        }

        Assert.Equal(0, await ConsentsOfAsync(gateway, clientId));
        var (refused, error) = await TokenAsync(gateway.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        await ConsentPageOfAsync(browser, parameters);
        Assert.Contains(await gateway.AuditTrailAsync(), e => e.Record.Tool == $"oauth_consent/iris/{clientId}" && e.Record.Decision == "withdraw");

        // An unknown client, and a client id past the bound.
        using var missing = await gateway.Admin.DeleteAsync("/api/v1/oauth-clients/consents", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using var unknown = await gateway.Admin.DeleteAsync("/api/v1/oauth-clients/consents?clientId=nobody", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var tooLong = await gateway.Admin.DeleteAsync("/api/v1/oauth-clients/consents?clientId=" + new string('c', 2049), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AConsentOrAWithdrawalWhoseEntryCannotBeWritten_IsNotMade(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Settings());
        var clientId = await RegisterAsync(gateway.BaseUri);
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "kim", "Auditor");
        var (verifier, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);
        var entry = $"oauth_consent/kim/{clientId}";

        // The user allows the client while the trail refuses the entry: no consent, no code; the client is told to come
        // back, and the user is asked again then.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, entry))
        {
            var refused = await AuthorizeAsync(browser.Client, parameters);
            Assert.Equal("temporarily_unavailable", refused["error"]);
            Assert.Equal("state-1", refused["state"]);
            Assert.False(refused.ContainsKey("code"));
        }

        Assert.Equal(0, await StoredConsentsAsync(gateway));
        var answer = await AuthorizeAsync(browser.Client, parameters);
        var (status, tokens) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, gateway.McpUri);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, await ConsentsOfAsync(gateway, clientId));

        // An admin withdraws the consents while the trail refuses the entry: 503, and the consent and its tokens stand.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, entry))
        {
            using var withdrawn = await gateway.Admin.DeleteAsync("/api/v1/oauth-clients/consents?clientId=" + Uri.EscapeDataString(clientId), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, withdrawn.StatusCode);
        }

        Assert.Equal(1, await ConsentsOfAsync(gateway, clientId));
        var (refreshed, renewed) = await TokenAsync(gateway.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.OK, refreshed);
        Assert.True(renewed.TryGetProperty("access_token", out _));

        // Every consent and withdrawal the trail holds is one that was made: one grant, no withdrawal.
        Assert.Equal(["grant"], (await gateway.AuditTrailAsync()).Where(e => e.Record.Tool == entry).Select(e => e.Record.Decision));
    }

    [Fact]
    public async Task TheConsentPage_SaysWhenNoAgentProfileServesTheClient()
    {
        var settings = Settings();
        settings["Gateway:AgentOAuth:DefaultAgent"] = null;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var clientId = await RegisterAsync(gateway.BaseUri, "Orphan Client");
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "jack", "Auditor");
        var (_, challenge) = Pkce();

        using var page = await browser.Client.GetAsync(await ConsentPageOfAsync(browser, AuthorizeParameters(clientId, challenge, gateway.McpUri)), TestContext.Timeout);
        var html = await page.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Contains("No agent profile serves this client here", html, StringComparison.Ordinal);
        Assert.DoesNotContain("act as the agent profile", html, StringComparison.Ordinal);
    }

    /// <summary>Asks for a code as the browser's user and expects the consent page instead; yields its path and query.</summary>
    private static async Task<string> ConsentPageOfAsync(ConsoleBrowser browser, IDictionary<string, string?> parameters)
    {
        using var response = await browser.Client.GetAsync(AuthorizePath(parameters), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith(ConsentPath + "?", location, StringComparison.Ordinal);
        return location;
    }

    // The permanent authorizations stored, whoever gave them.
    private static async Task<int> StoredConsentsAsync(GatewayHost gateway)
    {
        using var scope = gateway.Services.CreateScope();
        var manager = scope.ServiceProvider.GetRequiredService<OpenIddict.Abstractions.IOpenIddictAuthorizationManager>();
        var count = 0;
        await foreach (var _ in manager.FindAsync(null, null, "valid", "permanent", null, TestContext.Timeout))
        {
            count++;
        }

        return count;
    }

    private static async Task<int> ConsentsOfAsync(GatewayHost gateway, string clientId)
    {
        using var listed = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/oauth-clients", TestContext.Timeout));
        return listed.RootElement.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("clientId").GetString() == clientId).GetProperty("consents").GetInt32();
    }
}
