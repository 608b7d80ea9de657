using System.Net;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;
using static Gateway.Tests.Support.OAuthFlow;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// Bad input at the gateway's authorization server (issue 17, item 5): each case is refused with OAuth's error for it,
/// recorded in the audit trail, and yields no token (so nothing can reach an upstream).
/// </summary>
public sealed class AuthorizationServerRefusalTests(AuthorizationServerRefusalTests.Gateway fixture) : IClassFixture<AuthorizationServerRefusalTests.Gateway>
{
    [Fact]
    public async Task AnUnknownClient_IsRefusedAtTheAuthorizationEndpoint_WithoutARedirect()
    {
        var (_, challenge) = Pkce();

        var answer = await fixture.AuthorizeErrorAsync(AuthorizeParameters("no-such-client", challenge, fixture.Host.McpUri));

        // RFC 6749 §4.1.2.1: an invalid client id is shown to the user, never redirected; invalid_request is the code
        // the authorization endpoint has for it (invalid_client is the token endpoint's, below).
        Assert.Equal("invalid_request", answer["error"]);
        Assert.Contains("client_id", answer["error_description"], StringComparison.Ordinal);
        await fixture.AssertAuditedAsync("OAuth authorization request refused: invalid_request", "no-such-client");
    }

    [Theory]
    [InlineData("/oauth/token")]
    [InlineData("/oauth/authorize")]
    public async Task AFormOverTheBound_Gets413_DeclaredOrChunked_AndOneAtTheBoundIsRead(string path)
    {
        const int bound = 64 * 1024;
        using var http = new HttpClient { BaseAddress = fixture.Host.BaseUri };

        // A form of exactly the bound is read (OpenIddict refuses what it says: no grant, no client).
        var atBound = "grant_type=none&padding=" + new string('a', bound - "grant_type=none&padding=".Length);
        using (var read = await http.PostAsync(path, new StringContent(atBound, System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, read.StatusCode);
        }

        // One byte more, with its length declared: 413 with an OAuth error, before the form is read.
        using (var declared = await http.PostAsync(path, new StringContent(atBound + "a", System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
            Assert.Contains("invalid_request", await declared.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        // Chunked (no length): cut at the bound.
        var chunked = new StreamContent(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(atBound + new string('a', 200 * 1024))));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var cut = await http.SendAsync(request, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, cut.StatusCode);
    }

    [Fact]
    public async Task AnUnknownClient_IsRefusedWithInvalidClient_AtTheTokenEndpoint()
    {
        var (status, error) = await RedeemAsync(fixture.Host.BaseUri, "no-such-client", "any-code", Pkce().Verifier, fixture.Host.McpUri);

        // RFC 6749 §5.2: invalid_client may be answered 401.
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", error.GetProperty("error").GetString());
        await fixture.AssertAuditedAsync("OAuth token request refused: invalid_client", "no-such-client");
    }

    [Fact]
    public async Task ARedirectUriTheClientDidNotRegister_IsRefusedWithoutARedirect()
    {
        var (_, challenge) = Pkce();
        var parameters = AuthorizeParameters(fixture.ClientId, challenge, fixture.Host.McpUri);
        parameters["redirect_uri"] = "http://127.0.0.1:9/elsewhere";

        var answer = await fixture.AuthorizeErrorAsync(parameters);

        // RFC 6749 §4.1.2.1: never redirect to a URI that did not match; the error is shown here instead.
        Assert.Equal("invalid_request", answer["error"]);
        Assert.Contains("redirect_uri", answer["error_description"], StringComparison.Ordinal);
        await fixture.AssertAuditedAsync("OAuth authorization request refused: invalid_request", "redirect_uri");
    }

    [Fact]
    public async Task ARequestWithoutPkce_IsRefusedWithInvalidRequest()
    {
        var parameters = AuthorizeParameters(fixture.ClientId, "unused", fixture.Host.McpUri);
        parameters["code_challenge"] = null;
        parameters["code_challenge_method"] = null;

        var answer = await fixture.AuthorizeErrorAsync(parameters);

        Assert.Equal("invalid_request", answer["error"]);
        Assert.Contains("code_challenge", answer["error_description"], StringComparison.Ordinal);
        await fixture.AssertAuditedAsync("OAuth authorization request refused: invalid_request", "code_challenge");
    }

    [Fact]
    public async Task PlainPkce_IsRefusedWithInvalidRequest()
    {
        var (verifier, _) = Pkce();
        var parameters = AuthorizeParameters(fixture.ClientId, verifier, fixture.Host.McpUri);
        parameters["code_challenge_method"] = "plain";

        var answer = await fixture.AuthorizeErrorAsync(parameters);

        Assert.Equal("invalid_request", answer["error"]);
        Assert.Contains("code_challenge_method", answer["error_description"], StringComparison.Ordinal);
        await fixture.AssertAuditedAsync("OAuth authorization request refused: invalid_request", "code_challenge_method");
    }

    [Fact]
    public async Task AReplayedCode_IsRefusedWithInvalidGrant_AndRevokesWhatItsFirstUseGave()
    {
        var (verifier, challenge) = Pkce();
        var answer = await AuthorizeAsync(fixture.Browser.Client, AuthorizeParameters(fixture.ClientId, challenge, fixture.Host.McpUri));
        var (first, tokens) = await RedeemAsync(fixture.Host.BaseUri, fixture.ClientId, answer["code"], verifier, fixture.Host.McpUri);
        Assert.Equal(HttpStatusCode.OK, first);

        var (replayed, error) = await RedeemAsync(fixture.Host.BaseUri, fixture.ClientId, answer["code"], verifier, fixture.Host.McpUri);

        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        Assert.False(error.TryGetProperty("access_token", out _));

        // OAuth 2.1 §4.1.3: the tokens the code gave are revoked too (whoever replays may hold the first ones).
        var (refresh, refused) = await TokenAsync(fixture.Host.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = fixture.ClientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.BadRequest, refresh);
        Assert.Equal("invalid_grant", refused.GetProperty("error").GetString());
        await fixture.AssertAuditedAsync("OAuth token request refused: invalid_grant", fixture.ClientId);
    }

    [Fact]
    public async Task AWrongCodeVerifier_IsRefusedWithInvalidGrant()
    {
        var (_, challenge) = Pkce();
        var answer = await AuthorizeAsync(fixture.Browser.Client, AuthorizeParameters(fixture.ClientId, challenge, fixture.Host.McpUri));

        var (status, error) = await RedeemAsync(fixture.Host.BaseUri, fixture.ClientId, answer["code"], Pkce().Verifier, fixture.Host.McpUri);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        Assert.Contains("code_verifier", error.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        await fixture.AssertAuditedAsync("OAuth token request refused: invalid_grant", "code_verifier");
    }

    [Fact]
    public async Task ACodeForAnotherClient_IsRefusedWithInvalidGrant()
    {
        var (verifier, challenge) = Pkce();
        var answer = await AuthorizeAsync(fixture.Browser.Client, AuthorizeParameters(fixture.ClientId, challenge, fixture.Host.McpUri));
        var other = await RegisterAsync(fixture.Host.BaseUri, "another client");

        var (status, error) = await RedeemAsync(fixture.Host.BaseUri, other, answer["code"], verifier, fixture.Host.McpUri);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        await fixture.AssertAuditedAsync("OAuth token request refused: invalid_grant", other);
    }

    [Fact]
    public async Task AnotherResource_IsRefusedWithInvalidTarget()
    {
        var (_, challenge) = Pkce();
        var parameters = AuthorizeParameters(fixture.ClientId, challenge, new Uri("https://elsewhere.example/mcp"));

        var answer = await fixture.AuthorizeErrorAsync(parameters);

        // RFC 8707 §2: a token for another resource is not this server's to give.
        Assert.Equal("invalid_target", answer["error"]);
        await fixture.AssertAuditedAsync("OAuth authorization request refused: invalid_target", fixture.ClientId);
    }

    [Fact]
    public async Task TheStateAndTheIssuer_ComeBackExactly_SoAClientRefusesAMismatch()
    {
        // The authorization server keeps no state of its own: it returns the client's exactly, and names itself (RFC 9207)
        // so a client talking to several servers can refuse an answer from the wrong one (the TypeScript SDK does).
        var (_, challenge) = Pkce();
        const string state = "s t/a+t=e&ü";

        var answer = await AuthorizeAsync(fixture.Browser.Client, AuthorizeParameters(fixture.ClientId, challenge, fixture.Host.McpUri, state));

        Assert.Equal(state, answer["state"]);
        Assert.Equal(fixture.Host.BaseUri.ToString(), answer["iss"]);
    }

    /// <summary>One gateway with the authorization server, a registered client and a signed-in console user for the whole class.</summary>
    public sealed class Gateway : IAsyncLifetime
    {
        internal GatewayHost Host { get; private set; } = null!;

        internal ConsoleBrowser Browser { get; private set; } = null!;

        internal string ClientId { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Host = await GatewayHost.StartAsync(AuthorizationServerTests.Settings());
            ClientId = await RegisterAsync(Host.BaseUri);
            Browser = await ConsoleBrowser.SignInAsNewUserAsync(Host, "dave", "Admin");
        }

        internal async Task<(HttpStatusCode Status, Uri? Location, string Body)> AuthorizeRawAsync(IDictionary<string, string?> parameters)
        {
            using var response = await Browser.Client.GetAsync(AuthorizePath(parameters), TestContext.Timeout);
            return (response.StatusCode, response.Headers.Location, await response.Content.ReadAsStringAsync(TestContext.Timeout));
        }

        /// <summary>
        /// A refused authorization request: answered here (400, OpenIddict's <c>error:</c> lines), not redirected, so
        /// no code and no error reaches a redirect URI; yields the error and its description.
        /// </summary>
        internal async Task<Dictionary<string, string>> AuthorizeErrorAsync(IDictionary<string, string?> parameters)
        {
            var (status, location, body) = await AuthorizeRawAsync(parameters);
            Assert.True(status == HttpStatusCode.BadRequest && location is null, $"HTTP {(int)status} {location}: {body}");
            return body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1]);
        }

        internal async Task AssertAuditedAsync(string reason, string detail)
        {
            var refusals = (await Host.AuditTrailAsync()).Where(e => e.Record.Kind == AuditKinds.AgentAuthentication && e.Record.Outcome == AuditOutcomes.Denied).Select(e => e.Record.Error ?? string.Empty).ToList();
            Assert.True(
                refusals.Any(r => r.Contains(reason, StringComparison.Ordinal) && r.Contains(detail, StringComparison.Ordinal)),
                $"No audited refusal with '{reason}' and '{detail}' in: {string.Join(" | ", refusals)}");
        }

        public async Task DisposeAsync()
        {
            Browser.Dispose();
            await Host.DisposeAsync();
        }
    }
}
