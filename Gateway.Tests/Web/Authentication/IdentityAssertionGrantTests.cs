using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Gateway.Tests.Support.OAuthFlow;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// Enterprise-Managed Authorization (the MCP extension; ID-JAG redeemed with RFC 7523's JWT bearer grant) at the
/// gateway's own authorization server, against a real enterprise IdP on loopback that publishes its keys: a valid
/// assertion gives an access token for the IdP's user that calls tools, once; every rule of the extension's
/// validation refuses with <c>invalid_grant</c> and the reason; a user the console knows brings their roles, and a
/// disabled one is refused.
/// </summary>
public sealed class IdentityAssertionGrantTests
{
    private const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    internal static Dictionary<string, string?> Settings(TestEnterpriseIdp idp) => Merge(
        AuthorizationServerTests.Settings(),
        new Dictionary<string, string?>
        {
            ["Gateway:AgentOAuth:AuthorizationServer:IdentityAssertionIssuers:0"] = idp.Issuer,
            ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
        });

    internal static Task<(HttpStatusCode Status, JsonElement Body)> RedeemAssertionAsync(GatewayHost gateway, string clientId, string assertion, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = GrantType, ["client_id"] = clientId, ["assertion"] = assertion };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return TokenAsync(gateway.BaseUri, form);
    }

    [Fact]
    public async Task AnAssertionOfATrustedIdp_GivesAnAccessTokenForItsUser_ThatCallsTools_Once()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Settings(idp));
        await gateway.WaitForToolAsync("files__echo");
        var clientId = await RegisterAsync(gateway.BaseUri);

        using (var http = new HttpClient { BaseAddress = gateway.BaseUri })
        {
            using var metadata = JsonDocument.Parse(await http.GetStringAsync("/.well-known/oauth-authorization-server", TestContext.Timeout));
            Assert.Equal(["urn:ietf:params:oauth:grant-profile:id-jag"], metadata.RootElement.GetProperty("authorization_grant_profiles_supported").EnumerateArray().Select(p => p.GetString()));
            Assert.Contains(GrantType, metadata.RootElement.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()));
        }

        // The user signed in to the console through the same IdP once, and is an auditor there: notes (GroupGrants).
        var user = $"u-4711@{new Uri(idp.Issuer).Authority}";
        await gateway.Services.GetRequiredService<IConsoleUserStore>().UpsertExternalAsync(user, "U 4711", [ConsoleRoles.Auditor], DateTimeOffset.UtcNow, TestContext.Timeout);

        var assertion = idp.Assertion("u-4711", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString());
        var (status, tokens) = await RedeemAssertionAsync(gateway, clientId, assertion);
        Assert.True(status == HttpStatusCode.OK, tokens.ToString());
        Assert.False(tokens.TryGetProperty("refresh_token", out _), "an identity assertion grant gives no refresh token");
        var jwt = new JsonWebToken(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(user, jwt.Subject);
        Assert.Equal(gateway.McpUri.ToString(), Assert.Single(jwt.Audiences));
        Assert.Equal(clientId, jwt.GetClaim("client_id").Value);
        Assert.Equal("mcp", jwt.GetClaim("scope").Value);

        await using (var client = await gateway.ConnectAsync(jwt.EncodedToken, "2025-11-25"))
        {
            var result = await client.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "from the enterprise" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Actor == $"oauth-agents for {user}" && e.Record.Outcome == AuditOutcomes.Ok);

        // The redemption is in the trail, by the user, with the IdP and the assertion's id.
        var redeemed = Assert.Single(trail, e => e.Record.Kind == AuditKinds.AdminChange && e.Record.Tool == $"oauth_assertion/{user}/{clientId}");
        Assert.Equal($"console:{user}", redeemed.Record.Actor);
        Assert.Equal("grant", redeemed.Record.Decision);
        Assert.Contains(idp.Issuer, redeemed.Record.ArgumentsRedacted, StringComparison.Ordinal);

        // The same assertion again: refused, wherever it is presented (the mark is in the shared database).
        var (replayed, refusal) = await RedeemAssertionAsync(gateway, clientId, assertion);
        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Equal("invalid_grant", refusal.GetProperty("error").GetString());
        Assert.Equal("The assertion was used already.", refusal.GetProperty("error_description").GetString());
    }

    [SkippableTheory]
    [MemberData(nameof(Gateway.Tests.Data.DatabaseEngines.Both), MemberType = typeof(Gateway.Tests.Data.DatabaseEngines))]
    public async Task AGrantWhoseEntryCannotBeWritten_GivesNoToken(Gateway.Data.DatabaseProvider provider)
    {
        Gateway.Tests.Data.DatabaseEngines.Require(provider);
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(provider, Settings(idp));
        var clientId = await RegisterAsync(gateway.BaseUri);
        var user = $"u-5150@{new Uri(idp.Issuer).Authority}";
        var entry = $"oauth_assertion/{user}/{clientId}";

        // While the trail refuses the grant's entry, no token is issued; the assertion is spent, as with any refusal.
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, entry))
        {
            var (status, refusal) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("u-5150", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("temporarily_unavailable", refusal.GetProperty("error").GetString());
            Assert.False(refusal.TryGetProperty("access_token", out _));
        }

        Assert.DoesNotContain(await gateway.AuditTrailAsync(), e => e.Record.Tool == entry);

        // A new assertion once the trail takes entries again: a token, and its grant in the trail.
        var (granted, tokens) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("u-5150", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        Assert.True(granted == HttpStatusCode.OK, tokens.ToString());
        Assert.Single(await gateway.AuditTrailAsync(), e => e.Record.Tool == entry && e.Record.Decision == "grant");
    }

    [Fact]
    public async Task EveryRuleOfTheExtension_RefusesWithInvalidGrant_AndTheReason()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var stranger = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Settings(idp));
        var clientId = await RegisterAsync(gateway.BaseUri);
        var otherClient = await RegisterAsync(gateway.BaseUri, "another client");
        var audience = gateway.BaseUri.ToString();
        var resource = gateway.McpUri.ToString();
        var unpublished = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "not-published" };

        (string Assertion, string Reason)[] cases =
        [
            (idp.Assertion("u", clientId, "https://other-as.example/", resource), "The assertion's audience is not this gateway's issuer."),
            (idp.Assertion("u", clientId, audience, "https://other-mcp.example/mcp"), "The assertion's resource is not this gateway's resource URL."),
            (idp.Assertion("u", otherClient, audience, resource), "The assertion was issued to another client."),
            (idp.Assertion("u", clientId, audience, resource, type: "JWT"), "The assertion is not an identity assertion grant (typ oauth-id-jag+jwt)."),
            (stranger.Assertion("u", clientId, audience, resource), "The assertion was issued by an identity provider this gateway does not trust."),
            (idp.Assertion("u", clientId, audience, resource, signingKey: unpublished), "The assertion is signed with a key its identity provider does not publish."),
            (idp.Assertion("u", clientId, audience, resource, issuedAt: DateTimeOffset.UtcNow.AddMinutes(-9)), "The assertion expired."),
            (idp.Assertion("u", clientId, audience, resource, lifetime: TimeSpan.FromMinutes(11)), "The assertion lives longer than 10 minutes."),
            (idp.Assertion("u", clientId, audience, resource, scope: "mcp admin"), "The assertion allows scope 'admin', which this gateway does not offer."),
            (idp.Assertion("u", clientId, audience, resource, shape: c => c.Remove("jti")), "The assertion lacks jti."),
            (idp.Assertion("u", clientId, audience, resource, shape: c => c["jti"] = ""), "The assertion lacks jti."),
            (idp.Assertion("u", clientId, audience, resource, shape: c => c["jti"] = new string('j', 2049)), "The assertion's jti is longer than 2048 characters."),
            (idp.Assertion(new string('s', 2049), clientId, audience, resource), "The assertion's sub is longer than 2048 characters."),
            ("not.a.jwt", "The assertion is not a JWT."),
        ];

        foreach (var (assertion, reason) in cases)
        {
            var (status, body) = await RedeemAssertionAsync(gateway, clientId, assertion);
            Assert.True(status == HttpStatusCode.BadRequest, $"{reason}: {status} {body}");
            Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
            Assert.Equal(reason, body.GetProperty("error_description").GetString());
        }

        // At the lifetime bound (10 minutes), a jti at the length bound, and with a scope both asked for and allowed:
        // accepted, with the intersection.
        var (ok, tokens) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("u", clientId, audience, resource, lifetime: TimeSpan.FromMinutes(10), shape: c => c["jti"] = new string('j', 2048)), scope: "mcp");
        Assert.True(ok == HttpStatusCode.OK, tokens.ToString());
        Assert.Equal("mcp", new JsonWebToken(tokens.GetProperty("access_token").GetString()!).GetClaim("scope").Value);

        // Without the grant configured the token endpoint does not offer it.
        await using var plain = await GatewayHost.StartAsync(AuthorizationServerTests.Settings());
        var plainClient = await RegisterAsync(plain.BaseUri);
        var (unsupported, answer) = await RedeemAssertionAsync(plain, plainClient, idp.Assertion("u", plainClient, plain.BaseUri.ToString(), plain.McpUri.ToString()));
        Assert.Equal(HttpStatusCode.BadRequest, unsupported);
        Assert.Equal("unsupported_grant_type", answer.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AUserTheConsoleKnows_BringsTheirRolesAsGroups_AndADisabledOneIsRefused()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Settings(idp));
        await gateway.WaitForToolAsync("files__echo");
        var clientId = await RegisterAsync(gateway.BaseUri);
        var host = new Uri(idp.Issuer).Authority;
        var users = gateway.Services.GetRequiredService<IConsoleUserStore>();
        await users.UpsertExternalAsync($"dana@{host}", "Dana", [ConsoleRoles.Admin], DateTimeOffset.UtcNow, TestContext.Timeout);
        var erin = await users.UpsertExternalAsync($"erin@{host}", "Erin", [ConsoleRoles.Admin], DateTimeOffset.UtcNow, TestContext.Timeout);
        Assert.Equal(AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync(erin.Id, roles: null, enabled: false, TestContext.Timeout)).Outcome);

        // Dana is an admin in the console: files and notes (GroupGrants); a user the console does not know has no groups: none.
        var (_, dana) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("dana", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        var danaToken = new JsonWebToken(dana.GetProperty("access_token").GetString()!);
        Assert.Equal("Dana", danaToken.GetClaim("name").Value);
        await using (var client = await gateway.ConnectAsync(danaToken.EncodedToken, "2025-11-25"))
        {
            var tools = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
            Assert.Contains(tools, t => t.Name == "files__echo");
        }

        var (_, stranger) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("frank", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        await using (var client = await gateway.ConnectAsync(stranger.GetProperty("access_token").GetString()!, "2025-11-25"))
        {
            Assert.Empty(await client.ListToolsAsync(cancellationToken: TestContext.Timeout));
        }

        var (status, refusal) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("erin", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("The assertion's user may no longer sign in to this gateway.", refusal.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task AClientIdentifiedByItsMetadataDocument_RedeemsAnAssertion_WithoutEverUsingTheAuthorizationEndpoint()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var site = await ClientMetadataHost.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Settings(idp),
            new Dictionary<string, string?> { ["Gateway:AgentOAuth:AuthorizationServer:ClientMetadataHosts:0"] = site.BaseUri.Host }));
        var clientId = site.Serve("/clients/enterprise.json", RedirectUri);

        var (status, tokens) = await RedeemAssertionAsync(gateway, clientId, idp.Assertion("gina", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        Assert.True(status == HttpStatusCode.OK, tokens.ToString());
        Assert.Equal(clientId, new JsonWebToken(tokens.GetProperty("access_token").GetString()!).GetClaim("client_id").Value);

        // A document that cannot be fetched: the client is unknown (401, as RFC 6749 answers invalid_client), and the
        // request is refused before the assertion is looked at.
        var missing = new Uri(site.BaseUri, "/clients/missing.json").ToString();
        var (refused, answer) = await RedeemAssertionAsync(gateway, missing, idp.Assertion("gina", missing, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
        Assert.Equal(HttpStatusCode.Unauthorized, refused);
        Assert.Equal("invalid_client", answer.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnAssertionAtTheSizeBound_IsRedeemed_AndOneOverIt_IsRefused()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Settings(idp));
        var clientId = await RegisterAsync(gateway.BaseUri);

        // Base64url cannot reach every length: the largest at most the bound, and the smallest over it.
        string Sized(Func<int, bool> fits)
        {
            for (var pad = 11_000; pad < 12_500; pad++)
            {
                var assertion = idp.Assertion("hank", clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString(), shape: c => c["padding"] = new string('p', pad));
                if (fits(assertion.Length))
                {
                    return assertion;
                }
            }

            throw new InvalidOperationException("No padding gave the length asked for.");
        }

        var atBound = Sized(length => length is 16_383 or 16_384);
        var (ok, tokens) = await RedeemAssertionAsync(gateway, clientId, atBound);
        Assert.True(ok == HttpStatusCode.OK, tokens.ToString());

        var over = Sized(length => length is 16_385 or 16_386);
        var (refused, answer) = await RedeemAssertionAsync(gateway, clientId, over);
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal("The assertion is longer than 16384 characters.", answer.GetProperty("error_description").GetString());
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://idp.example")]
    public async Task ABadIssuerList_StopsTheStart(string issuer)
    {
        var settings = Merge(AuthorizationServerTests.Settings(), new Dictionary<string, string?> { ["Gateway:AgentOAuth:AuthorizationServer:IdentityAssertionIssuers:0"] = issuer });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(settings));
        Assert.Contains("IdentityAssertionIssuers holds at most 8 distinct issuers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NineIssuers_StopTheStart_AndEightStart()
    {
        Dictionary<string, string?> With(int count) => Merge(
            AuthorizationServerTests.Settings(),
            Enumerable.Range(0, count).ToDictionary(i => $"Gateway:AgentOAuth:AuthorizationServer:IdentityAssertionIssuers:{i}", i => (string?)$"https://idp{i}.example"));

        await using (await GatewayHost.StartAsync(With(8)))
        {
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(With(9)));
        Assert.Contains("IdentityAssertionIssuers holds at most 8 distinct issuers", error.Message, StringComparison.Ordinal);
    }
}
