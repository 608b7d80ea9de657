using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Authentication.OAuth.Logout;
using Gateway.Web.Credentials.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// The identity provider signs a user out of the gateway (OpenID Connect Back-Channel Logout 1.0): the OpenIddict IdP the
/// tests host issues the agents' tokens and exchanges them for an upstream's; the logout tokens are signed with its own
/// signing key (OpenIddict does not send them itself), so the gateway checks them against its published JWKS.
/// </summary>
public sealed class BackChannelLogoutTests : IAsyncLifetime
{
    private const string Secret = "logout-client-secret-0123456789";
    private const string Server = "hr-logout";

    private TestTokenServer _idp = null!;

    public async Task InitializeAsync() => _idp = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [Fact]
    public async Task ALogoutToken_RevokesItsUser_TheirAgentsAreRefused_AndTheirExchangedTokensDropped_Audited_AndItCannotBeReplayed()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await gateway.WaitForToolAsync(Server + "__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        var exchanges = gateway.Services.GetRequiredService<TokenExchange>();
        Assert.Equal(2, exchanges.Cached);

        var token = LogoutToken();
        using (var response = await PostAsync(gateway, token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }

        using (var refused = await PerUserAccountTests.RawPostAsync(gateway, alice))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("User 'alice' was signed out by their identity provider", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(1, exchanges.Cached);
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        var revoked = Assert.Single(await gateway.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));
        Assert.Equal(("alice", RevocationReason.IdentityProviderLogout, _idp.Issuer), (revoked.User, revoked.Reason, revoked.RevokedBy));
        var change = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.AdminChange && r.Tool == "user/alice");
        Assert.Equal("identity-provider:" + _idp.Issuer, change.Actor);

        // The same token again (its jti) is refused, even after an admin restored the user.
        using (var restored = await gateway.Admin.DeleteAsync("/api/v1/users/revoked/alice", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, restored.StatusCode);
        }

        await AssertRefusedAsync(gateway, token, "The logout token was used already (its jti).");
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
    }

    [Fact]
    public async Task EachFlawOfALogoutToken_IsRefusedWith400AndWhy_Audited_AndTheUserStaysServed()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await gateway.WaitForToolAsync(Server + "__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerKey = new SigningCredentials(new ECDsaSecurityKey(stranger) { KeyId = "stranger" }, SecurityAlgorithms.EcdsaSha256);

        (string Token, string Why)[] cases =
        [
            (string.Empty, "The request has no logout_token."),
            (new string('a', BackChannelLogout.MaxTokenLength + 1), $"The logout token is longer than {BackChannelLogout.MaxTokenLength} characters."),
            ("not.a.jwt", "The logout token is not a JWT."),
            (LogoutToken(c => c["aud"] = "someone-else"), "The logout token's audience is not the gateway's client id at the identity provider."),
            (LogoutToken(c => c["iss"] = "https://idp.example/"), "The logout token's issuer is not an identity provider this gateway accepts logout tokens from."),
            (LogoutToken(signing: strangerKey), "The logout token is signed with a key the identity provider does not publish."),
            (Unsigned(), "The logout token's signing algorithm is not accepted."),
            (Tampered(), "The logout token's signature is invalid."),
            (LogoutToken(c => c.Remove("events")), $"The logout token's events claim has no {BackChannelLogout.LogoutEvent} member."),
            (LogoutToken(c => c["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/other"] = new Dictionary<string, object>() }), $"The logout token's events claim has no {BackChannelLogout.LogoutEvent} member."),
            (LogoutToken(c => c["nonce"] = "n-0"), "The logout token carries a nonce (it may be an ID token): refused."),
            (LogoutToken(c => c.Remove("jti")), "The logout token has no jti (or one over 256 characters)."),
            (LogoutToken(c => c.Remove("iat")), "The logout token has no iat."),
            (LogoutToken(c => c["iat"] = now - (long)BackChannelLogout.MaxAge.TotalSeconds - 31), "The logout token was issued more than 5 minutes ago (iat)."),
            (LogoutToken(c => c["iat"] = now + 120), "The logout token was issued in the future (iat)."),
            (LogoutToken(c => { c["iat"] = now - 120; c["exp"] = now - 60; }), "The logout token expired."),
            (LogoutToken(c => { c["sid"] = "session-1"; c.Remove("sub"); }), "The logout token names only a session (sid); the gateway signs users out by their subject (sub)."),
            (LogoutToken(type: "at+jwt"), "The logout token's type is 'at+jwt', not logout+jwt."),
        ];
        foreach (var (token, why) in cases)
        {
            await AssertRefusedAsync(gateway, token, why);
        }

        // At its bound (iat exactly MaxAge old, within the skew) a token is still taken.
        using (var atLimit = await PostAsync(gateway, LogoutToken(c => { c["sub"] = "carol"; c["iat"] = now - (long)BackChannelLogout.MaxAge.TotalSeconds; })))
        {
            Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        }

        // A body over the bound is not read.
        using (var http = new HttpClient { BaseAddress = gateway.BaseUri })
        using (var large = await http.PostAsync(BackChannelLogoutEndpoint.Path, new StringContent("logout_token=" + new string('a', BackChannelLogoutEndpoint.MaxBodyBytes), Encoding.ASCII, "application/x-www-form-urlencoded"), TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        }

        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal(["carol"], (await gateway.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout)).Select(r => r.User));
        var refusals = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.AgentAuthentication && r.Error!.StartsWith("Back-channel logout refused", StringComparison.Ordinal)).ToList();
        Assert.Equal(cases.Length, refusals.Count);
    }

    [Fact]
    public async Task AnExchangeTheIdentityProviderRefusesWithInvalidGrant_BecauseTheUserIsGone_FailsTheCallWithAClearError()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await gateway.WaitForToolAsync(Server + "__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        _idp.DisabledUsers["alice"] = true;
        var forwarded = CallLog.Count(Server, "whoami");

        await using var client = await gateway.ConnectAsync(alice, "2025-11-25");
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(Server + "__whoami", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(McpErrorCode.InvalidRequest, error.ErrorCode);
        Assert.Contains(
            "The call was not forwarded: The identity provider no longer accepts the user's token (invalid_grant: The user is disabled): the user may have been disabled or signed out there.",
            error.Message,
            StringComparison.Ordinal);
        Assert.Equal(forwarded, CallLog.Count(Server, "whoami"));
    }

    /// <summary>A logout token as the IdP would send it, signed with its key; <paramref name="change"/> spoils one claim.</summary>
    // The revocation commits with its audit entry: when the entry cannot be written the provider gets 503 and a reason
    // (not a server error), and the user stays served.
    [Fact]
    public async Task ALogoutWhoseEntryIsRefused_Answers503_AndRevokesNobody()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, "user/alice"))
        {
            using var response = await PostAsync(gateway, LogoutToken());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Timeout));
            Assert.Equal("temporarily_unavailable", body.RootElement.GetProperty("error").GetString());
        }

        Assert.Empty(await gateway.Services.GetRequiredService<IRevokedUserStore>().ListAsync(TestContext.Timeout));
        Assert.False(gateway.Services.GetRequiredService<UserRevocations>().IsRevoked("alice"));
    }

    private string LogoutToken(Action<Dictionary<string, object>>? change = null, SigningCredentials? signing = null, string type = "logout+jwt")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = _idp.Issuer,
            ["aud"] = TestTokenServer.ClientId,
            ["iat"] = now,
            ["exp"] = now + 120,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["sub"] = "alice",
            ["events"] = new Dictionary<string, object> { [BackChannelLogout.LogoutEvent] = new Dictionary<string, object>() },
        };
        change?.Invoke(claims);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = signing ?? _idp.SigningCredentials,
            TokenType = type,
        });
    }

    /// <summary>The valid token with <c>alg: none</c> and no signature.</summary>
    private string Unsigned()
    {
        var parts = LogoutToken().Split('.');
        return Base64UrlEncoder.Encode("""{"alg":"none","typ":"logout+jwt"}""") + "." + parts[1] + ".";
    }

    /// <summary>A valid token whose payload was changed after signing (another subject).</summary>
    private string Tampered()
    {
        var parts = LogoutToken().Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64UrlEncoder.Decode(parts[1]))!;
        payload["sub"] = JsonSerializer.SerializeToElement("bob");
        return parts[0] + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload)) + "." + parts[2];
    }

    private static async Task<HttpResponseMessage> PostAsync(GatewayHost gateway, string token)
    {
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };
        return await http.PostAsync(BackChannelLogoutEndpoint.Path, new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = token }), TestContext.Timeout);
    }

    private static async Task AssertRefusedAsync(GatewayHost gateway, string token, string why)
    {
        using var response = await PostAsync(gateway, token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Timeout));
        Assert.Equal("invalid_request", body.RootElement.GetProperty("error").GetString());
        Assert.Equal(why, body.RootElement.GetProperty("error_description").GetString());
    }

    private async Task<(Microsoft.AspNetCore.Builder.WebApplication App, string Url)> StartUpstreamAsync()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (app, url) = await StartHttpAsync(Server, gate: gate);
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        return (app, url);
    }

    private Task<GatewayHost> StartGatewayAsync(string url) => GatewayHost.StartAsync(Merge(
        Http(Server, url),
        Agent("people", "logout-agent-key-0123456789", $"{Server}/*"),
        TokenExchangeGateway.Settings(Server, url, _idp, Secret, Secret)));

    private static async Task<string> WhoamiAsync(GatewayHost gateway, string token)
    {
        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        var result = await client.CallToolAsync(Server + "__whoami", cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return ((TextContentBlock)Assert.Single(result.Content)).Text;
    }
}
