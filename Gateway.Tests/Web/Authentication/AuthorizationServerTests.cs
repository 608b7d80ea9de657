using System.Net;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using static Gateway.Tests.Support.OAuthFlow;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// The gateway as its own OAuth authorization server (OpenIddict, stores in the gateway's SQLite file): discovery,
/// dynamic registration, the console's sign-in behind the authorization endpoint, code + PKCE S256, refresh tokens,
/// and access tokens the gateway's own resource side accepts.
/// </summary>
public sealed class AuthorizationServerTests
{
    internal static Dictionary<string, string?> Settings(string? metadataHost = null, bool registration = true, int maxRegistered = 1000) => Merge(
        Stdio("files"),
        Stdio("notes"),
        Agent("oauth-agents", "oauth-agents-key-0123456789", "files/*", "notes/*"),
        new Dictionary<string, string?>
        {
            ["Gateway:AgentOAuth:AuthorizationServer:Enabled"] = "true",
            ["Gateway:AgentOAuth:AuthorizationServer:DynamicClientRegistration"] = registration ? "true" : "false",
            ["Gateway:AgentOAuth:AuthorizationServer:MaxRegisteredClients"] = maxRegistered.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:AgentOAuth:AuthorizationServer:ClientMetadataHosts:0"] = metadataHost,
            ["Gateway:AgentOAuth:AuthorizationServer:RequireHttpsClientMetadata"] = "false",
            ["Gateway:AgentOAuth:DefaultAgent"] = "oauth-agents",
            ["Gateway:AgentOAuth:Scopes:0"] = "mcp",

            // Per console role: admins reach files and notes, auditors notes only.
            ["Gateway:AgentOAuth:GroupGrants:Admin:0"] = "files/*",
            ["Gateway:AgentOAuth:GroupGrants:Admin:1"] = "notes/*",
            ["Gateway:AgentOAuth:GroupGrants:Auditor:0"] = "notes/*",
        });

    [Fact]
    public async Task Discovery_NamesTheGatewayAsItsOwnAuthorizationServer_WithS256Only()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(metadataHost: "127.0.0.1"));
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var resource = JsonDocument.Parse(await http.GetStringAsync("/.well-known/oauth-protected-resource/mcp", TestContext.Timeout));
        var issuer = Assert.Single(resource.RootElement.GetProperty("authorization_servers").EnumerateArray()).GetString();
        Assert.Equal(gateway.BaseUri.ToString(), issuer);

        using var metadata = JsonDocument.Parse(await http.GetStringAsync("/.well-known/oauth-authorization-server", TestContext.Timeout));
        var root = metadata.RootElement;
        Assert.Equal(issuer, root.GetProperty("issuer").GetString());
        Assert.Equal(new Uri(gateway.BaseUri, "/oauth/authorize").ToString(), root.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(new Uri(gateway.BaseUri, "/oauth/token").ToString(), root.GetProperty("token_endpoint").GetString());
        Assert.Equal(new Uri(gateway.BaseUri, "/oauth/register").ToString(), root.GetProperty("registration_endpoint").GetString());
        Assert.Equal(["S256"], root.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(m => m.GetString()));
        Assert.True(root.GetProperty("client_id_metadata_document_supported").GetBoolean());
        Assert.Contains("refresh_token", root.GetProperty("grant_types_supported").EnumerateArray().Select(m => m.GetString()));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ARegisteredClient_SignsTheConsoleUserIn_AndTheirTokenCallsTools_WithTheirRolesGrants_ThenRefreshes_UntilTheUserIsDisabled(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Settings());
        await gateway.WaitForToolAsync("files__echo");
        await gateway.WaitForToolAsync("notes__echo");
        var clientId = await RegisterAsync(gateway.BaseUri);
        var (verifier, challenge) = Pkce();
        var parameters = AuthorizeParameters(clientId, challenge, gateway.McpUri);

        // Not signed in: to the console's login, which comes back to this very request.
        using var anonymous = ConsoleBrowser.For(gateway);
        using var toLogin = await anonymous.Client.GetAsync(AuthorizePath(parameters), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        Assert.Equal("/login", toLogin.Headers.Location!.AbsolutePath);
        var back = QueryHelpers.ParseQuery(toLogin.Headers.Location.Query)["ReturnUrl"].ToString();
        Assert.StartsWith("/oauth/authorize?", back, StringComparison.Ordinal);

        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "carol", "Auditor");
        var answer = await AuthorizeAsync(browser.Client, parameters);
        Assert.Equal("state-1", answer["state"]);
        Assert.Equal(gateway.BaseUri.ToString(), answer["iss"]);

        var (status, tokens) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, gateway.McpUri);
        Assert.Equal(HttpStatusCode.OK, status);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var jwt = new JsonWebToken(accessToken);
        Assert.Equal(gateway.McpUri.ToString(), Assert.Single(jwt.Audiences));
        Assert.Equal("carol", jwt.Subject);
        Assert.Equal("ES256", jwt.Alg);

        await using (var client = await gateway.ConnectAsync(accessToken, "2025-11-25"))
        {
            // Carol is an auditor: notes only, though the agent profile has files too.
            var tools = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
            Assert.Contains(tools, t => t.Name == "notes__echo");
            Assert.DoesNotContain(tools, t => t.Name == "files__echo");
            var result = await client.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "as carol" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Actor == "oauth-agents for carol" && e.Record.Outcome == AuditOutcomes.Ok);

        var (refreshed, next) = await TokenAsync(gateway.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.OK, refreshed);
        Assert.NotEqual(tokens.GetProperty("refresh_token").GetString(), next.GetProperty("refresh_token").GetString());
        Assert.Equal("carol", new JsonWebToken(next.GetProperty("access_token").GetString()!).Subject);

        // What was redeemed (the code, the first refresh token) is pruned once old enough; the current refresh token stays.
        var pruning = gateway.Services.GetRequiredService<Gateway.Web.Authentication.OAuth.Server.AuthorizationServerPruning>();
        var (pruned, _) = await pruning.PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1), TestContext.Timeout);
        Assert.True(pruned >= 2, $"{pruned} tokens pruned: the redeemed code and refresh token were kept");
        var (again, latest) = await TokenAsync(gateway.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = next.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.OK, again);

        // Carol is disabled: her refresh token no longer gives tokens.
        var users = gateway.Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>();
        var carol = (await users.FindAsync("carol", TestContext.Timeout))!;
        Assert.Equal(Gateway.Core.Identity.AdminKeepingChange.Done, (await users.ChangeKeepingAnAdminAsync(carol.Id, roles: null, enabled: false, TestContext.Timeout)).Outcome);
        var (refused, error) = await TokenAsync(gateway.BaseUri, new()
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = clientId,
            ["refresh_token"] = latest.GetProperty("refresh_token").GetString()!,
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal("invalid_grant", error.GetProperty("error").GetString());
        Assert.Equal("The user of this refresh token may no longer sign in.", error.GetProperty("error_description").GetString());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACode_IsRedeemedOnceAcrossInstances_AndARefreshTokenRotatesAcrossThem(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var shared = await SharedDatabase.CreateAsync(provider, "oauthas");

        // One resource URL for both (one issuer); each instance validates the other's tokens with the shared key file.
        var resource = new Uri("http://127.0.0.1:9/mcp");
        var settings = shared.Settings(Settings(), new Dictionary<string, string?> { ["Gateway:AgentOAuth:Resource"] = resource.ToString() });
        await using var first = await GatewayHost.StartAsync(settings);
        await using var second = await GatewayHost.StartAsync(settings);
        await second.WaitForToolAsync("notes__echo");
        var clientId = await RegisterAsync(first.BaseUri);
        var (verifier, challenge) = Pkce();
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(first, "erin", "Auditor");
        var code = (await AuthorizeAsync(browser.Client, AuthorizeParameters(clientId, challenge, resource)))["code"];

        // Issued on the first, redeemed on the second.
        var (redeemed, tokens) = await RedeemAsync(second.BaseUri, clientId, code, verifier, resource);
        Assert.Equal(HttpStatusCode.OK, redeemed);
        await using (var client = await first.ConnectAsync(tokens.GetProperty("access_token").GetString()!, "2025-11-25"))
        {
            Assert.NotEqual(true, (await client.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "as erin" }, cancellationToken: TestContext.Timeout)).IsError);
        }

        // A refresh token issued on the second rotates on the first, and the one it gave rotates on the second.
        static Dictionary<string, string> Refresh(string clientId, JsonElement tokens) =>
            new() { ["grant_type"] = "refresh_token", ["client_id"] = clientId, ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()! };
        var (rotated, next) = await TokenAsync(first.BaseUri, Refresh(clientId, tokens));
        Assert.Equal(HttpStatusCode.OK, rotated);
        Assert.Equal("erin", new JsonWebToken(next.GetProperty("access_token").GetString()!).Subject);
        var (again, latest) = await TokenAsync(second.BaseUri, Refresh(clientId, next));
        Assert.Equal(HttpStatusCode.OK, again);

        // The same code again, on the first: refused, and what the code gave is revoked with it, on every instance.
        var (replayed, refusal) = await RedeemAsync(first.BaseUri, clientId, code, verifier, resource);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (replayed, refusal.GetProperty("error").GetString()));
        var (revoked, revokedError) = await TokenAsync(second.BaseUri, Refresh(clientId, latest));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_grant"), (revoked, revokedError.GetProperty("error").GetString()));
    }
}
