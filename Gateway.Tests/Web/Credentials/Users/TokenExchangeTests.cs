using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Credentials.Users;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// Credential mode tokenExchange: the OpenIddict IdP (token exchange enabled) exchanges each user's access token for one
/// whose audience is the upstream; the C# upstream accepts only tokens for itself and says whose token it got.
/// </summary>
public sealed class TokenExchangeTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "exchange-client-secret-0123456789";
    private const string AgentKey = "exchange-agent-key-0123456789";

    private TestTokenServer _idp = null!;

    public async Task InitializeAsync() => _idp = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [Fact]
    public async Task EachUsersCall_CarriesTheirTokenExchangedForTheUpstream_OneExchangePerToken_AndTheirOwnTokenIsRefusedThere()
    {
        var (upstream, url, gate) = await StartUpstreamAsync("hr-exchange");
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync("hr-exchange", url, Secret);
        await gateway.WaitForToolAsync("hr-exchange__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());

        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        var exchanged = _idp.Exchanged;
        Assert.Equal(2, exchanged);

        // Cached per token and server until near expiry: more calls, no more exchanges.
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        Assert.Equal(exchanged, _idp.Exchanged);
        Assert.Equal(2, gateway.Services.GetRequiredService<TokenExchange>().Cached);

        // Cached per token, not only per user: alice's other token (another of her agents, other scopes) is exchanged
        // itself; what was exchanged for the first one never serves it.
        var aliceAgain = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        Assert.NotEqual(alice, aliceAgain);
        Assert.Equal("alice", await WhoamiAsync(gateway, aliceAgain));
        Assert.Equal(exchanged + 1, _idp.Exchanged);

        // The tools were listed with the server's own credential (the client's token, also for this audience).
        Assert.Contains(gate.Requests, r => r.Admitted);

        // The users' own tokens (audience: the gateway) never reached the upstream, which refuses them.
        Assert.DoesNotContain(gate.Requests, r => r.Text.Contains(alice, StringComparison.Ordinal) || r.Text.Contains(bob, StringComparison.Ordinal));
        Assert.Null(await _idp.SubjectOfAsync("Bearer " + alice, url));
        using var http = new HttpClient();
        using var direct = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        direct.Headers.TryAddWithoutValidation("Authorization", "Bearer " + alice);
        using var refused = await http.SendAsync(direct, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var calls = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall && r.Outcome == AuditOutcomes.Ok).ToList();
        Assert.Contains(calls, r => r.Actor == "people for alice");
        Assert.Contains(calls, r => r.Actor == "people for bob");
    }

    [Fact]
    public async Task ADPoPBoundUsersToken_IsAcceptedWithItsProofs_AndGoesToTheExchange_WhichThisIdPRefuses_SoTheCallEndsInAnAuditedError()
    {
        var (upstream, url, gate) = await StartUpstreamAsync("hr-bound");
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync("hr-bound", url, Secret);
        await gateway.WaitForToolAsync("hr-bound__whoami");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString(), DPoPProofs.Thumbprint(key));
        var payload = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(alice.Split('.')[1]));
        Assert.True(payload.Contains("\"cnf\":{\"jkt\"", StringComparison.Ordinal), payload);

        // With a proof on each request the gateway takes the token (as a bearer token it would not), and asks the IdP
        // to exchange it as for any user. OpenIddict 7.8 cannot exchange a DPoP-bound subject token (it fails with
        // "The specified token binding method is invalid or not supported", a 500): the agent gets that as a JSON-RPC
        // error, the call is audited as an error, and the upstream sees nothing. An IdP that exchanges bound tokens
        // would answer as for the others (EachUsersCall_... above).
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions { Endpoint = gateway.McpUri, TransportMode = HttpTransportMode.StreamableHttp },
            new HttpClient(new DPoPProofs.ProofHandler(request => DPoPProofs.Proof(key, request.Method.Method, request.RequestUri!.GetLeftPart(UriPartial.Path), alice), alice)),
            ownsHttpClient: true);
        await using (var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Timeout))
        {
            Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "hr-bound__whoami");
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("hr-bound__whoami", cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("The call was not forwarded: The identity provider (token exchange for 'hr-bound') answered 500 without a JSON object.", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, CallLog.Count("hr-bound", "whoami"));
        Assert.Equal(0, _idp.Exchanged);
        Assert.DoesNotContain(gate.Requests, r => r.Text.Contains(alice, StringComparison.Ordinal));
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Outcome == AuditOutcomes.Error && r.Actor == "people for alice");
        Assert.DoesNotContain(trail, r => r.Kind == AuditKinds.AgentAuthentication);
    }

    [Fact]
    public async Task ARefusedExchange_OrAnAgentWithoutAUser_GetsAJsonRpcError_Audited_AndNothingIsForwarded()
    {
        var (upstream, url, _) = await StartUpstreamAsync("hr-refused");
        await using var running = upstream;

        // The gateway's client secret at the IdP is wrong for the exchange (the server's own credential is right).
        await using var gateway = await StartGatewayAsync("hr-refused", url, "not-the-exchange-secret-0123456789");
        await gateway.WaitForToolAsync("hr-refused__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());

        await using (var client = await gateway.ConnectAsync(alice, "2025-11-25"))
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("hr-refused__whoami", cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("The call was not forwarded: The identity provider refused to exchange the user's token for 'hr-refused': 401 invalid_client", error.Message, StringComparison.Ordinal);
        }

        await using (var keyed = await gateway.ConnectAsync(AgentKey))
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => keyed.CallToolAsync("hr-refused__whoami", cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("authenticated with an API key, which names no user", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, CallLog.Count("hr-refused", "whoami"));
        Assert.Equal(0, _idp.Exchanged);
        var errors = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall && r.Outcome == AuditOutcomes.Error).ToList();
        Assert.Contains(errors, r => r.Actor == "people for alice" && r.Error!.Contains("invalid_client", StringComparison.Ordinal));
        Assert.Contains(errors, r => r.Actor == "people" && r.Error!.Contains("API key", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task RevokingAUserOnOneInstance_StopsTheirCallsOnAnother_AndDropsTheTokensExchangedThere(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var (upstream, url, _) = await StartUpstreamAsync("hr-two");
        await using var running = upstream;
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var postgres = provider == DatabaseProvider.Postgres ? await PostgresServer.CreateMigratedDatabaseAsync("revocation") : null;
        try
        {
            await using var first = await StartGatewayAsync("hr-two", url, Secret, directory, postgres);
            await using var second = await StartGatewayAsync("hr-two", url, Secret, directory, postgres);
            await second.WaitForToolAsync("hr-two__whoami");
            var alice = await _idp.UserTokenAsync(Secret, "alice", second.McpUri.ToString());
            var bob = await _idp.UserTokenAsync(Secret, "bob", second.McpUri.ToString());
            Assert.Equal("alice", await WhoamiAsync(second, alice, "hr-two"));
            Assert.Equal("bob", await WhoamiAsync(second, bob, "hr-two"));
            var exchanges = second.Services.GetRequiredService<TokenExchange>();
            Assert.Equal(2, exchanges.Cached);

            using (var revoked = await first.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "alice" }, TestContext.Timeout))
            {
                Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            }

            // The second instance learns of it from the shared database (SQLite's change poll, 1 s by default; PostgreSQL's
            // notification): polled here with a deadline of that poll plus a margin; alice's agent is then refused there, bob's is not.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                using var response = await PerUserAccountTests.RawPostAsync(second, alice);
                if (response.StatusCode == HttpStatusCode.Forbidden)
                {
                    output.WriteLine($"refused on the other instance {watch.Elapsed.TotalMilliseconds:0} ms after the revocation");
                    break;
                }

                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"alice was still served by the other instance {watch.Elapsed.TotalMilliseconds:0} ms after the revocation");
                await Task.Delay(20, TestContext.Timeout);
            }

            // Her tokens are dropped as the revocation is loaded there (just after her calls start being refused).
            await Eventually.TrueAsync(() => exchanges.Cached == 1, "alice's exchanged token is dropped on the other instance");
            Assert.Equal("bob", await WhoamiAsync(second, bob, "hr-two"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AUsersTask_IsReadWithTheirExchangedToken_NeverWithTheServersOwnCredential()
    {
        // The conformance server runs failing_job as a task (2026-07-28, the tasks extension) and records each request.
        var gate = new HeaderGate();
        await using var server = await Gateway.TestUpstream.Conformance.ConformanceServer.StartAsync(gate: gate);
        var url = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("conf", url, prefix: ""),
            Agent("people", AgentKey, "conf/*"),
            TokenExchangeGateway.Settings("conf", url, _idp, Secret, Secret)));
        await gateway.WaitForToolAsync("failing_job");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());

        await using (var client = await Gateway.Tests.Web.Mcp.TasksPassThroughTests.ConnectAsync(gateway, alice, declareTasks: true))
        {
            var created = await Gateway.Tests.Web.Mcp.TasksPassThroughTests.CallAsync(client, "failing_job", []);

            // Not followed in the background: the gateway holds no token of alice's to poll with between her requests.
            Assert.Equal(0, gateway.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>().Following);
            var ended = await Gateway.Tests.Web.Mcp.TasksPassThroughTests.PollUntilEndedAsync(client, created["taskId"]!.GetValue<string>());
            Assert.Equal("completed", ended["status"]!.GetValue<string>());
        }

        // Every tasks/get the upstream saw came as alice (the agent's reads); none with the server's own credential,
        // which the gateway would have used to poll on its own.
        var reads = gate.Requests.Where(r => r.Headers.GetValueOrDefault("Mcp-Method") == "tasks/get").ToList();
        Assert.NotEmpty(reads);
        foreach (var read in reads)
        {
            Assert.Equal("alice", await _idp.SubjectOfAsync(read.Headers.GetValueOrDefault("Authorization"), url));
        }
    }

    private async Task<(Microsoft.AspNetCore.Builder.WebApplication App, string Url, HeaderGate Gate)> StartUpstreamAsync(string name)
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (app, url) = await StartHttpAsync(name, gate: gate);
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        return (app, url, gate);
    }

    private Task<GatewayHost> StartGatewayAsync(string server, string url, string exchangeSecret, string? directory = null, string? postgres = null) => GatewayHost.StartAsync(Merge(
        postgres is null ? new Dictionary<string, string?>() : new Dictionary<string, string?> { ["ConnectionStrings:Gateway"] = postgres },
        Http(server, url),
        Agent("people", AgentKey, $"{server}/*"),
        TokenExchangeGateway.Settings(server, url, _idp, Secret, exchangeSecret)), directory);

    private static async Task<string> WhoamiAsync(GatewayHost gateway, string token, string server = "hr-exchange")
    {
        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        var result = await client.CallToolAsync(server + "__whoami", cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return ((TextContentBlock)Assert.Single(result.Content)).Text;
    }
}
