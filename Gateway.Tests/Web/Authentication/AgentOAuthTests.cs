using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Authentication.OAuth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// The gateway as an OAuth protected resource (RFC 9728, RFC 8707) with a real OpenIddict server as the enterprise
/// issuer: the 401 names the metadata, the issuer's tokens for this gateway work beside API keys, and every bad token
/// is refused 401 with the reason, audited, and never reaches an upstream.
/// </summary>
public sealed class AgentOAuthTests : IAsyncLifetime
{
    private const string Secret = "issuer-client-secret-0123456789";

    private TestTokenServer _issuer = null!;

    public async Task InitializeAsync() => _issuer = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _issuer.DisposeAsync();

    private Task<GatewayHost> StartGatewayAsync(string? defaultAgent = AgentOAuthGateway.AgentName) => AgentOAuthGateway.StartAsync(_issuer, defaultAgent);

    private static Task<HttpResponseMessage> PostMcpAsync(GatewayHost gateway, string? authorization) => AgentOAuthGateway.PostInitializeAsync(gateway, authorization);

    [Fact]
    public async Task NoCredential_Gets401NamingTheMetadata_WhichNamesTheIssuerAndThisResource()
    {
        await using var gateway = await StartGatewayAsync();

        using var response = await PostMcpAsync(gateway, null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        var metadataUrl = new Uri(gateway.BaseUri, "/.well-known/oauth-protected-resource/mcp").ToString();
        Assert.Contains($"resource_metadata=\"{metadataUrl}\"", challenge, StringComparison.Ordinal);

        // RFC 6750 §3: no error code when no credential was presented.
        Assert.DoesNotContain("error=", challenge, StringComparison.Ordinal);

        using var http = new HttpClient();
        foreach (var path in new[] { "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource" })
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(gateway.BaseUri, path), TestContext.Timeout));
            Assert.Equal(gateway.McpUri.ToString(), document.RootElement.GetProperty("resource").GetString());
            Assert.Equal(_issuer.Issuer, Assert.Single(document.RootElement.GetProperty("authorization_servers").EnumerateArray()).GetString());
            Assert.Equal("mcp", Assert.Single(document.RootElement.GetProperty("scopes_supported").EnumerateArray()).GetString());
        }
    }

    [Fact]
    public async Task IssuersToken_ForThisResource_ListsAndCallsTools_AndApiKeysStillWork()
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.WaitForToolAsync("files__echo");
        var token = await _issuer.ClientCredentialsTokenAsync(Secret, gateway.McpUri.ToString());

        await using (var client = await gateway.ConnectAsync(token, "2025-11-25"))
        {
            Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
            var result = await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "by token" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        await using (var keyed = await gateway.ConnectAsync("oauth-agents-key-0123456789"))
        {
            Assert.Contains(await keyed.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
        }

        // The call was made by the default agent profile; no token was refused on the way.
        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Actor.StartsWith("oauth-agents", StringComparison.Ordinal) && e.Record.Outcome == AuditOutcomes.Ok);
        Assert.DoesNotContain(trail, e => e.Record.Kind == AuditKinds.AgentAuthentication);
    }

    [Fact]
    public async Task AnAgentLimitedToAVirtualServer_IsLimitedWhenItComesWithAToken_AsWithItsKey()
    {
        await using var gateway = await AgentOAuthGateway.StartAsync(_issuer, more: new Dictionary<string, string?>
        {
            ["Gateway:VirtualServers:ops:Tools:0:Server"] = "files",
            ["Gateway:VirtualServers:ops:Tools:0:Tool"] = "echo",
            ["Gateway:VirtualServers:ops:Agents:0"] = AgentOAuthGateway.AgentName,
        });
        await gateway.WaitForToolAsync("files__echo");
        var token = await _issuer.ClientCredentialsTokenAsync(Secret, gateway.McpUri.ToString());

        foreach (var authorization in new[] { "Bearer " + token, "Bearer " + AgentOAuthGateway.AgentKey })
        {
            using var everything = await AgentOAuthGateway.PostInitializeAsync(gateway.McpUri, authorization);
            Assert.Equal(HttpStatusCode.Forbidden, everything.StatusCode);
            Assert.Contains("limited to its virtual servers", await everything.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);

            using var its = await AgentOAuthGateway.PostInitializeAsync(new Uri(gateway.BaseUri, "/mcp/ops"), authorization);
            Assert.Equal(HttpStatusCode.OK, its.StatusCode);
        }
    }

    [Fact]
    public async Task AConsoleUserOfTheAgentsIssuer_IsTheUserTheirAgentsActFor_MayNotApproveTheirCalls_AndDisablingThemStopsTheirTokens()
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.WaitForToolAsync("files__echo");

        // The console knows the identity provider's user s1 as s1@host (OIDC sign-in); the agents' tokens say s1.
        var consoleName = "s1@" + new Uri(_issuer.Issuer).Authority;
        var users = gateway.Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>();
        foreach (var (name, source) in new[] { (consoleName, Gateway.Core.Identity.ConsoleUserSource.Oidc), ("bruno", Gateway.Core.Identity.ConsoleUserSource.Local) })
        {
            await users.CreateAsync(new() { UserName = name, DisplayName = name, Source = source, AssignedRoles = [Gateway.Core.Identity.ConsoleRoles.Approver], CreatedAt = DateTimeOffset.UtcNow }, TestContext.Timeout);
        }

        var token = Create(gateway.McpUri.ToString(), _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, user: "s1");
        using (var served = await PostMcpAsync(gateway, "Bearer " + token))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        // A call held for s1: s1 may not approve it (four eyes), another approver may.
        var store = gateway.Services.GetRequiredService<Gateway.Core.Approvals.IApprovalStore>();
        var held = new Gateway.Core.Approvals.Approval
        {
            Id = "apr_s1" + Guid.NewGuid().ToString("N")[..8],
            AgentId = (await gateway.Services.GetRequiredService<Gateway.Core.Agents.IAgentStore>().FindAsync(AgentOAuthGateway.AgentName, TestContext.Timeout))!.Id,
            Agent = AgentOAuthGateway.AgentName + " for s1",
            Server = "files",
            Tool = "echo",
            ToolDefinitionSha256 = new string('0', 64),
            ArgumentsJson = "{}",
            ArgumentsSha256 = new string('1', 64),
            Reason = "test",
            CreatedAt = DateTimeOffset.UtcNow,
            ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(10),
        };
        await store.CreateAsync(held, TestContext.Timeout);
        Assert.Equal(Gateway.Web.Admin.AdminOutcome.Forbidden, (await DecideAsync(gateway, held.Id, consoleName, oidc: true)).Outcome);
        Assert.Equal(Gateway.Web.Admin.AdminOutcome.Done, (await DecideAsync(gateway, held.Id, "bruno", oidc: false)).Outcome);

        // Disabling s1@host in the console stops the tokens that say s1.
        Assert.Equal(Gateway.Web.Admin.AdminOutcome.Done, (await ConsoleUserDisableTests.SetEnabledAsync(gateway, consoleName, enabled: false)).Outcome);
        using (var refused = await PostMcpAsync(gateway, "Bearer " + token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("User 's1' is disabled in the gateway's console", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        Assert.Equal(Gateway.Web.Admin.AdminOutcome.Done, (await ConsoleUserDisableTests.SetEnabledAsync(gateway, consoleName, enabled: true)).Outcome);
        using (var servedAgain = await PostMcpAsync(gateway, "Bearer " + token))
        {
            Assert.Equal(HttpStatusCode.OK, servedAgain.StatusCode);
        }
    }

    /// <summary>Approves <paramref name="id"/> through the operations the console and the API call, as the console user <paramref name="user"/> (an approver).</summary>
    private static async Task<Gateway.Web.Admin.AdminResult<Gateway.Core.Approvals.Approval>> DecideAsync(GatewayHost gateway, string id, string user, bool oidc)
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<Gateway.Web.Admin.AdminActor>().Set(
            new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, Gateway.Core.Identity.ConsoleRoles.Approver), new Claim(Gateway.Web.Identity.ConsoleClaims.Source, oidc ? "oidc" : "local")],
                "test")),
            "console:" + user);
        return await scope.ServiceProvider.GetRequiredService<Gateway.Web.Admin.Approvals.ApprovalOperations>().DecideAsync(id, approve: true, null, TestContext.Timeout);
    }

    [Fact]
    public async Task AUsersCallHeldForApproval_EndsAtOnce_WhenTheUserIsRevoked()
    {
        await using var gateway = await AgentOAuthGateway.StartAsync(_issuer, more: new Dictionary<string, string?>
        {
            ["Gateway:Policies:hold:Effect"] = "escalate",
            ["Gateway:Policies:hold:Tools:0"] = "echo",
            ["Gateway:Policies:hold:Reason"] = "needs a human",
        });
        await gateway.WaitForToolAsync("files__echo");
        var token = Create(gateway.McpUri.ToString(), _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, user: "dora");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Services.GetRequiredService<Gateway.Core.Approvals.ApprovalEvents>().Changed += a =>
        {
            if (a.Agent == AgentOAuthGateway.AgentName + " for dora")
            {
                held.TrySetResult();
            }
        };

        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        var call = client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "mine" }, cancellationToken: TestContext.Timeout).AsTask();
        await held.Task.WaitAsync(TestContext.Timeout);
        using (var revoke = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "dora" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        var result = await call;
        Assert.True(result.IsError);
        Assert.Equal(Gateway.Web.Mcp.GatewayMcpHandlers.CallerEnded, Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task ClientWithoutAnAgentProfile_IsRefused()
    {
        await using var gateway = await StartGatewayAsync(defaultAgent: null);
        var token = await _issuer.ClientCredentialsTokenAsync(Secret, gateway.McpUri.ToString());

        using var response = await PostMcpAsync(gateway, "Bearer " + token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("No agent profile serves this client", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    // A user's session is told its tool list changed when the tools it may see change (the agent profile's grants
    // narrowed by the user's groups and scopes, as its requests are), not when only the profile's others do.
    [Fact]
    public async Task AUsersSession_IsToldOfChangesToTheToolsItMaySee_NotOfTheProfilesOthers()
    {
        const string Key = NarrowedProfileKey;
        await using var gateway = await StartNarrowedProfileAsync();
        var token = Create(gateway.McpUri.ToString(), _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, user: "bob", scope: "notes");
        var told = 0;
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var bob = await gateway.ConnectAsync(token, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(ModelContextProtocol.Protocol.NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    Interlocked.Increment(ref told);
                    changed.TrySetResult();
                    return ValueTask.CompletedTask;
                })],
            },
        });
        Assert.NotEqual(true, (await bob.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout)).IsError);
        await using (var keyed = await gateway.ConnectAsync(Key))
        {
            // A tool bob may not see comes: nothing to tell him. Then one he may see comes: he is told, once.
            await keyed.CallToolAsync("files__toggle_extra", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
            await gateway.WaitForToolAsync("files__extra");
            await keyed.CallToolAsync("notes__toggle_extra", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
            await changed.Task.WaitAsync(TestContext.Timeout);
        }

        Assert.Contains(await bob.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "notes__extra");
        Assert.Equal(1, Volatile.Read(ref told));

        // Revoked, bob's session is no longer served here (as a revoked key's): nothing more reaches it.
        var sessions = gateway.Services.GetRequiredService<Gateway.Web.Mcp.McpSessionRegistry>();
        await Eventually.TrueAsync(() => sessions.Count == 1, "only bob's session is open");
        using (var revoke = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "bob" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        Assert.Equal(0, sessions.Count);
    }

    // A 2026-07-28 user's listen stream, likewise, hears only of the tools the user may see, and ends when the user is
    // revoked (their requests are refused from then on; an open stream is one).
    [Fact]
    public async Task AUsersListenStream_HearsNothingOfTheProfilesOtherTools_AndEndsWhenTheUserIsRevoked()
    {
        await using var gateway = await StartNarrowedProfileAsync();
        var token = Create(gateway.McpUri.ToString(), _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, user: "carol", scope: "notes");
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var (response, reader) = await Gateway.Tests.Web.Mcp.ListenStreamTests.ListenAsync(http, gateway, token, "carol-listen");
        using var listening = response;
        using var lines = reader;
        Assert.Equal("notifications/subscriptions/acknowledged", (await Gateway.Tests.Web.Mcp.ListenStreamTests.NextMessageAsync(reader))["method"]?.GetValue<string>());

        await using (var keyed = await gateway.ConnectAsync(NarrowedProfileKey))
        {
            await keyed.CallToolAsync("files__toggle_extra", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        }

        await gateway.WaitForToolAsync("files__extra");
        using (var revoke = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "carol" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        // The next message is the listen request's answer (the stream's end), not a list change of files' tools.
        var next = await Gateway.Tests.Web.Mcp.ListenStreamTests.NextMessageAsync(reader);
        Assert.Equal("carol-listen", next["id"]?.GetValue<string>());
        Assert.NotNull(next["result"]);
    }

    private const string NarrowedProfileKey = "oauth-agents-key-0123456789";

    /// <summary>A gateway whose agent profile has files and notes, its OAuth users narrowed to notes by the scope "notes".</summary>
    private async Task<GatewayHost> StartNarrowedProfileAsync()
    {
        var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("files"),
            Stdio("notes"),
            Agent("oauth-agents", NarrowedProfileKey, "files/*", "notes/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:AgentOAuth:Issuer"] = _issuer.Issuer,
                ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
                ["Gateway:AgentOAuth:DefaultAgent"] = "oauth-agents",
                ["Gateway:AgentOAuth:ScopeGrants:notes:0"] = "notes/*",
            }));
        await gateway.WaitForToolAsync("files__echo");
        await gateway.WaitForToolAsync("notes__echo");
        return gateway;
    }

    [Fact]
    public async Task GrantsAreNarrowedPerUserGroupAndScope_AndTheAuditShowsAgentAndUser()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("files"),
            Stdio("notes"),
            Agent("oauth-agents", "oauth-agents-key-0123456789", "files/*", "notes/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:AgentOAuth:Issuer"] = _issuer.Issuer,
                ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
                ["Gateway:AgentOAuth:DefaultAgent"] = "oauth-agents",
                ["Gateway:AgentOAuth:GroupGrants:engineering:0"] = "files/*",
                ["Gateway:AgentOAuth:GroupGrants:engineering:1"] = "notes/*",
                ["Gateway:AgentOAuth:GroupGrants:sales:0"] = "notes/*",
                ["Gateway:AgentOAuth:ScopeGrants:files:0"] = "files/*",
                ["Gateway:AgentOAuth:ScopeGrants:notes:0"] = "notes/*",
            }));
        await gateway.WaitForToolAsync("files__echo");
        await gateway.WaitForToolAsync("notes__echo");
        var resource = gateway.McpUri.ToString();
        string TokenFor(string user, string[] groups, string scope) =>
            Create(resource, _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, user: user, groups: groups, scope: scope);

        async Task<string[]> ToolsOfAsync(string token)
        {
            await using var client = await gateway.ConnectAsync(token, "2025-11-25");
            return [.. (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).Where(n => n.EndsWith("__echo", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        }

        // Group grants ∩ scope grants ∩ the agent's grants.
        Assert.Equal(["files__echo", "notes__echo"], await ToolsOfAsync(TokenFor("alice", ["engineering"], "files notes")));
        Assert.Equal(["files__echo"], await ToolsOfAsync(TokenFor("alice", ["engineering"], "files")));
        Assert.Equal(["notes__echo"], await ToolsOfAsync(TokenFor("bob", ["sales"], "files notes")));
        Assert.Empty(await ToolsOfAsync(TokenFor("bob", ["sales"], "files")));
        Assert.Empty(await ToolsOfAsync(TokenFor("eve", [], "files notes")));

        // A call outside the user's grants is refused as unknown; one inside runs and is audited as agent and user.
        await using (var bob = await gateway.ConnectAsync(TokenFor("bob", ["sales"], "files notes"), "2025-11-25"))
        {
            var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => bob.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "no" }, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("Unknown tool", refused.Message, StringComparison.Ordinal);
            var allowed = await bob.CallToolAsync("notes__echo", new Dictionary<string, object?> { ["message"] = "yes" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, allowed.IsError);
        }

        var calls = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall).ToList();
        Assert.Contains(calls, r => r.Actor == "oauth-agents for bob" && r.Tool == "notes__echo" && r.Outcome == AuditOutcomes.Ok);
        Assert.Contains(calls, r => r.Actor == "oauth-agents for bob" && r.Tool == "files__echo" && r.Outcome == AuditOutcomes.Denied);
    }

    [Fact]
    public async Task AnIssuerThatNamesTheGatewayOtherwise_IsAcceptedForTheConfiguredAudiencesOnly()
    {
        // Entra ID style: aud is the application ID URI or the client id, scopes come in scp, the client in azp.
        const string appIdUri = "api://mcp-gateway";
        const string clientId = "5f3c1a52-7f2e-4c1e-9d3a-0c8b2a4e6f10";
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("files"),
            Agent("oauth-agents", "oauth-agents-key-0123456789", "files/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:AgentOAuth:Issuer"] = _issuer.Issuer,
                ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
                ["Gateway:AgentOAuth:DefaultAgent"] = "oauth-agents",
                ["Gateway:AgentOAuth:Audiences:0"] = appIdUri,
                ["Gateway:AgentOAuth:Audiences:1"] = clientId,
                ["Gateway:AgentOAuth:ScopeGrants:mcp.access:0"] = "files/*",
            },
            // Up to the bound: 8 audiences, one of them 2,048 characters long.
            Enumerable.Range(2, AgentOAuthSettings.MaxAudiences - 2).ToDictionary(i => $"Gateway:AgentOAuth:Audiences:{i}", i => (string?)(i == 2 ? "api://" + new string('x', 2042) : $"api://filler-{i}"))));
        await gateway.WaitForToolAsync("files__echo");
        string Token(string audience, string scp) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _issuer.Issuer,
            Audience = audience,
            Claims = new Dictionary<string, object> { ["sub"] = "alice", ["azp"] = "some-client", ["scp"] = scp },
            SigningCredentials = _issuer.SigningCredentials,
            Expires = DateTime.UtcNow.AddMinutes(5),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            IssuedAt = DateTime.UtcNow.AddMinutes(-1),
        });

        foreach (var audience in new[] { appIdUri, clientId, gateway.McpUri.ToString() })
        {
            await using var client = await gateway.ConnectAsync(Token(audience, "mcp.access"), "2025-11-25");
            Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
        }

        // The scp scopes narrow as scope does: without mcp.access nothing is granted.
        await using (var narrow = await gateway.ConnectAsync(Token(appIdUri, "other"), "2025-11-25"))
        {
            Assert.DoesNotContain(await narrow.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
        }

        // Another application's token from the same issuer is still refused.
        using var refused = await PostMcpAsync(gateway, "Bearer " + Token("api://another-app", "mcp.access"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("not this gateway's resource URL or one of its configured audiences", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(9, "api://gw")]
    [InlineData(1, "api://gw with-space")]
    [InlineData(1, " ")]
    public async Task Audiences_AreBounded_OrTheGatewayDoesNotStart(int count, string audience)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:AgentOAuth:Issuer"] = _issuer.Issuer,
            ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
        };
        for (var i = 0; i < count; i++)
        {
            settings[$"Gateway:AgentOAuth:Audiences:{i}"] = i == 0 ? audience : $"api://gw-{i}";
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(settings));
        Assert.Contains("Gateway:AgentOAuth:Audiences holds at most 8 audiences", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0", null, true)]
    [InlineData("http://0.0.0.0:0", "https://gateway.example.com/mcp", false)]
    public async Task AWildcardAddress_NeedsTheResourceSet_OrTheGatewayDoesNotStart(string urls, string? resource, bool refused)
    {
        var settings = new Dictionary<string, string?>
        {
            ["urls"] = urls,
            ["Gateway:AgentOAuth:Issuer"] = _issuer.Issuer,
            ["Gateway:AgentOAuth:Resource"] = resource,
        };
        if (refused)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(settings));
            Assert.Contains("Gateway:AgentOAuth:Resource must be set", error.Message, StringComparison.Ordinal);
            return;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        using var http = new HttpClient();
        var port = new Uri(gateway.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First()).Port;
        using var document = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", TestContext.Timeout));
        Assert.Equal(resource, document.RootElement.GetProperty("resource").GetString());
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", "The token expired." },
        { "wrong-audience", "The token's audience is not this gateway's resource URL." },
        { "wrong-issuer", "The token was issued by an issuer this gateway does not trust." },
        { "unknown-key", "The token is signed with a key the issuer does not publish." },
        { "alg-none", "The token's signing algorithm is not accepted." },
        { "hs256", "The token's signing algorithm is not accepted." },
        { "tampered", "The token's signature is invalid." },
        { "no-expiry", "The token has no expiry (exp)." },
        { "too-long", $"The token is longer than {AgentOAuthSettings.MaxTokenLength} characters." },
        { "encrypted", "Encrypted tokens are not accepted" },
        { "no-user", "The token names no user (sub)." },
        { "dpop-bound", "The token is bound to a DPoP key (cnf.jkt) and came as a bearer token: send it under the DPoP scheme with a proof." },
        { "mtls-bound", "The token is bound to a key this gateway cannot check (cnf without jkt, e.g. a TLS client certificate)." },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadToken_Gets401WithTheReason_IsAudited_AndNothingIsForwarded(string kind, string reason)
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.WaitForToolAsync("files__echo");
        var token = Mint(kind, gateway.McpUri.ToString());

        using var response = await PostMcpAsync(gateway, "Bearer " + token);

        AgentOAuthGateway.AssertChallenged(response, "Bearer", "invalid_token", reason);
        await AgentOAuthGateway.AssertRefusedAndAuditedOnlyAsync(gateway, reason);
    }

    [Fact]
    public async Task TokenAtTheLengthLimit_IsParsed_OneOverIsNot()
    {
        await using var gateway = await StartGatewayAsync();
        var resource = gateway.McpUri.ToString();
        string Padded(int pad) => Create(resource, _issuer.Issuer, DateTime.UtcNow.AddMinutes(5), _issuer.SigningCredentials, pad: new string('p', pad));

        // Pad a valid token (inside a claim) up to the limit: base64url grows by one or two characters per byte.
        var pad = (AgentOAuthSettings.MaxTokenLength - Padded(0).Length) * 3 / 4;
        while (Padded(pad + 1).Length <= AgentOAuthSettings.MaxTokenLength)
        {
            pad++;
        }

        var atLimit = Padded(pad);
        Assert.InRange(atLimit.Length, AgentOAuthSettings.MaxTokenLength - 1, AgentOAuthSettings.MaxTokenLength);
        using (var accepted = await PostMcpAsync(gateway, "Bearer " + atLimit))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var over = Padded(pad + 1);
        Assert.True(over.Length > AgentOAuthSettings.MaxTokenLength);
        using var refused = await PostMcpAsync(gateway, "Bearer " + over);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("longer than", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusalsAreAuditedAtMostTwentyASecond_TheRestCounted()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var database = await AuditDatabase.OpenAsync(time: time);
        var audit = new TokenRefusalAudit(database.Sink, time);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();

        for (var i = 0; i < TokenRefusalAudit.PerSecond + 5; i++)
        {
            await audit.RecordAsync(context, "The token expired.");
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await audit.RecordAsync(context, "The token expired.");
        await database.Flusher.FlushAsync(TestContext.Timeout);

        var refusals = database.Reader.ReadEntries().Select(e => e.Record).Where(r => r.Kind == AuditKinds.AgentAuthentication).ToList();
        Assert.Equal(TokenRefusalAudit.PerSecond + 1, refusals.Count);
        Assert.Contains("(5 more refusals were not recorded)", refusals[^1].Error, StringComparison.Ordinal);
    }

    private string Mint(string kind, string resource)
    {
        var now = DateTime.UtcNow;
        var key = _issuer.SigningCredentials;
        return kind switch
        {
            "expired" => Create(resource, _issuer.Issuer, now.AddMinutes(-10), key, notBefore: now.AddMinutes(-20)),
            "wrong-audience" => Create("https://elsewhere.example/mcp", _issuer.Issuer, now.AddMinutes(5), key),
            "wrong-issuer" => Create(resource, "https://other-issuer.example/", now.AddMinutes(5), key),
            "unknown-key" => Create(resource, _issuer.Issuer, now.AddMinutes(5), new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "unknown" }, SecurityAlgorithms.RsaSha256)),
            "alg-none" => Base64Url("""{"alg":"none","typ":"JWT"}""") + "." + Base64Url($$"""{"iss":"{{_issuer.Issuer}}","aud":"{{resource}}","sub":"mallory","exp":{{new DateTimeOffset(now.AddMinutes(5)).ToUnixTimeSeconds()}}}""") + ".",
            "hs256" => Create(resource, _issuer.Issuer, now.AddMinutes(5), new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256)),
            "tampered" => Tamper(Create(resource, _issuer.Issuer, now.AddMinutes(5), key)),
            "no-expiry" => Create(resource, _issuer.Issuer, null, key),
            "no-user" => Create(resource, _issuer.Issuer, now.AddMinutes(5), key, user: null),
            "dpop-bound" => Create(resource, _issuer.Issuer, now.AddMinutes(5), key, confirmation: new Dictionary<string, object> { ["jkt"] = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }),
            "mtls-bound" => Create(resource, _issuer.Issuer, now.AddMinutes(5), key, confirmation: new Dictionary<string, object> { ["x5t#S256"] = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }),
            "too-long" => Create(resource, _issuer.Issuer, now.AddMinutes(5), key, pad: new string('p', AgentOAuthSettings.MaxTokenLength)),
            "encrypted" => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = _issuer.Issuer,
                Audience = resource,
                Expires = now.AddMinutes(5),
                Subject = new ClaimsIdentity([new Claim("sub", "mallory")]),
                SigningCredentials = key,
                EncryptingCredentials = new EncryptingCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes128CbcHmacSha256),
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static string Create(string audience, string issuer, DateTime? expires, SigningCredentials key, DateTime? notBefore = null, string? pad = null, string? user = "mallory", string[]? groups = null, string? scope = null, Dictionary<string, object>? confirmation = null)
    {
        var claims = new Dictionary<string, object> { ["client_id"] = "some-client" };
        if (confirmation is not null)
        {
            claims["cnf"] = confirmation;
        }

        if (user is not null)
        {
            claims["sub"] = user;
        }

        if (groups is not null)
        {
            claims["groups"] = groups;
        }

        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        if (pad is not null)
        {
            claims["pad"] = pad;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            SigningCredentials = key,
            Expires = expires,
            NotBefore = notBefore ?? (expires is null ? null : DateTime.UtcNow.AddMinutes(-1)),
            IssuedAt = notBefore ?? DateTime.UtcNow.AddMinutes(-1),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>Changes the subject in the payload and keeps the signature.</summary>
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"mallory\"", "\"admin\"", StringComparison.Ordinal);
        return parts[0] + "." + Base64Url(payload) + "." + parts[2];
    }

    private static string Base64Url(string text) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(text));
}
