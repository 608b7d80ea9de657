using System.Net;
using System.Net.Http.Headers;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.Web.Authentication.OAuth;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.DPoPProofs;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// A proof replayed to another instance behind the same balancer, whose replay memory never saw it: refused with
/// <c>Gateway:AgentOAuth:DPoPSharedReplay</c> (each proof taken once in the shared database) or with
/// <c>Gateway:AgentOAuth:DPoPNonce</c> (RFC 9449 §9: each proof carries a nonce of the instance it reaches).
/// </summary>
public sealed partial class DPoPTests
{
    /// <summary>The resource both instances serve, as behind one balancer: the tokens' audience and the proofs' <c>htu</c>.</summary>
    private const string BalancedResource = "http://gw.example/mcp";

    private static readonly Dictionary<string, string?> Balanced = new() { ["Gateway:AgentOAuth:Resource"] = BalancedResource };

    private static readonly Dictionary<string, string?> BalancedWithNonces = new(Balanced) { ["Gateway:AgentOAuth:DPoPNonce"] = "true" };

    private static readonly Dictionary<string, string?> BalancedWithSharedReplay = new(Balanced) { ["Gateway:AgentOAuth:DPoPSharedReplay"] = "true" };

    [Fact]
    public async Task WithNonces_AProofHoldsOnlyOnTheInstanceWhoseNonceItCarries_SoAReplayToAnotherIsRefused()
    {
        await using var first = await AgentOAuthGateway.StartAsync(_issuer, more: BalancedWithNonces);
        await using var second = await AgentOAuthGateway.StartAsync(_issuer, more: BalancedWithNonces);
        var token = Token(first, Thumbprint(_key), audience: BalancedResource);

        // A proof without a nonce is answered use_dpop_nonce, with the instance's nonce.
        using var asked = await PostMcpAsync(first, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token)]);
        AgentOAuthGateway.AssertChallenged(asked, "DPoP", "use_dpop_nonce", DPoPProofValidator.NonceRefusal);
        var firstNonce = Assert.Single(asked.Headers.GetValues(DPoPProofValidator.NonceHeader));
        Assert.Equal(DPoPNonces.Length, firstNonce.Length);

        var proof = Proof(_key, "POST", BalancedResource, token, nonce: firstNonce);
        using (var accepted = await PostMcpAsync(first, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.False(accepted.Headers.Contains(DPoPProofValidator.NonceHeader), "a current nonce was replaced");
        }

        // The same proof at the other instance: refused there, which gives its own nonce; here it is a replay.
        using var replayed = await PostMcpAsync(second, "DPoP " + token, [proof]);
        AgentOAuthGateway.AssertChallenged(replayed, "DPoP", "use_dpop_nonce", DPoPProofValidator.NonceRefusal);
        var secondNonce = Assert.Single(replayed.Headers.GetValues(DPoPProofValidator.NonceHeader));
        Assert.NotEqual(firstNonce, secondNonce);
        using (var again = await PostMcpAsync(first, "DPoP " + token, [proof]))
        {
            AgentOAuthGateway.AssertChallenged(again, "DPoP", "invalid_dpop_proof", "The DPoP proof was used before.");
        }

        // Nor does one whose nonce is not base64url (the client's text, checked before it is decoded).
        using (var garbled = await PostMcpAsync(second, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token, nonce: new string('*', DPoPNonces.Length))]))
        {
            AgentOAuthGateway.AssertChallenged(garbled, "DPoP", "use_dpop_nonce", DPoPProofValidator.NonceRefusal);
        }

        // A new proof with the first instance's nonce does not hold at the second either; one with the second's does.
        using (var foreign = await PostMcpAsync(second, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token, nonce: firstNonce)]))
        {
            AgentOAuthGateway.AssertChallenged(foreign, "DPoP", "use_dpop_nonce", DPoPProofValidator.NonceRefusal);
        }

        using (var own = await PostMcpAsync(second, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token, nonce: secondNonce)]))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        // Asking for a nonce is a step of the protocol, not a refused sign-in; the replay is one.
        Assert.DoesNotContain(await second.AuditTrailAsync(), e => e.Record.Kind == AuditKinds.AgentAuthentication);
        var refused = Assert.Single(await first.AuditTrailAsync(), e => e.Record.Kind == AuditKinds.AgentAuthentication).Record;
        Assert.Contains("The DPoP proof was used before.", refused.Error, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task WithSharedReplay_AProofTakenByOneInstance_IsRefusedByAnotherOnTheSameDatabase(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var database = await SharedDatabase.CreateAsync(provider, "dpop");
        var settings = database.Settings(BalancedWithSharedReplay);
        await using var first = await AgentOAuthGateway.StartAsync(_issuer, more: settings);
        await using var second = await AgentOAuthGateway.StartAsync(_issuer, more: settings);
        var token = Token(first, Thumbprint(_key), audience: BalancedResource);
        var proof = Proof(_key, "POST", BalancedResource, token);

        using (var accepted = await PostMcpAsync(first, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using (var replayed = await PostMcpAsync(second, "DPoP " + token, [proof]))
        {
            AgentOAuthGateway.AssertChallenged(replayed, "DPoP", "invalid_dpop_proof", "The DPoP proof was used before.");
        }

        // Only that proof: a new one holds on either instance.
        using (var fresh = await PostMcpAsync(second, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token)]))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        var refused = Assert.Single(await second.AuditTrailAsync(), e => e.Record.Kind == AuditKinds.AgentAuthentication).Record;
        Assert.Contains("The DPoP proof was used before.", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithSharedReplay_AProofTheDatabaseCannotTake_IsRefused_NotLetThroughUnchecked()
    {
        await using var database = await SharedDatabase.CreateAsync(DatabaseProvider.Sqlite, "dpop");
        var settings = database.Settings(BalancedWithSharedReplay);
        await using var gateway = await AgentOAuthGateway.StartAsync(_issuer, more: settings);
        var token = Token(gateway, Thumbprint(_key), audience: BalancedResource);

        // The ledger's table gone (a database that cannot answer, immediately): the proof is refused, and no 500.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(settings["ConnectionStrings:Gateway"]))
        {
            await connection.OpenAsync(TestContext.Timeout);
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE \"SingleUseMarks\"";
            await drop.ExecuteNonQueryAsync(TestContext.Timeout);
        }

        using var refused = await PostMcpAsync(gateway, "DPoP " + token, [Proof(_key, "POST", BalancedResource, token)]);
        AgentOAuthGateway.AssertChallenged(refused, "DPoP", "invalid_dpop_proof", "The DPoP proof cannot be checked for replay just now (the database did not answer); try again shortly.");
    }

    [Fact]
    public async Task WithoutEither_AProofReplayedToAnotherInstance_HoldsThere()
    {
        // What the shared replay check and the nonce close: each instance remembers only the proofs it saw.
        await using var first = await AgentOAuthGateway.StartAsync(_issuer, more: Balanced);
        await using var second = await AgentOAuthGateway.StartAsync(_issuer, more: Balanced);
        var token = Token(first, Thumbprint(_key), audience: BalancedResource);
        var proof = Proof(_key, "POST", BalancedResource, token);

        using (var accepted = await PostMcpAsync(first, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using (var replayed = await PostMcpAsync(second, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        }
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task WithNonces_AClientThatFollowsUseDPoPNonce_ListsAndCallsTools(string revision)
    {
        await using var gateway = await AgentOAuthGateway.StartAsync(_issuer, more: BalancedWithNonces);
        await gateway.WaitForToolAsync("files__echo");
        var token = Token(gateway, Thumbprint(_key), audience: BalancedResource);
        var handler = new NonceFollowingHandler((request, nonce) => Proof(_key, request.Method.Method, BalancedResource, token, nonce: nonce), token);
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions { Endpoint = gateway.McpUri, TransportMode = HttpTransportMode.StreamableHttp },
            new HttpClient(handler),
            ownsHttpClient: true);
        await using (var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = revision }, cancellationToken: TestContext.Timeout))
        {
            Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
            var result = await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "nonce" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        // Asked once (the first request), then every proof carried the nonce.
        Assert.Equal(1, handler.NoncesAsked);
        Assert.Contains((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall && r.Outcome == AuditOutcomes.Ok);
    }

    [Fact]
    public async Task ANonce_IsCurrentForAPeriod_HoldsOneMoreWithTheNewOneGiven_ThenNot_AndOnlyOnItsOwnInstance()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        var nonces = new DPoPNonces(time);
        var nonce = nonces.Current;
        Assert.True(nonces.IsValid(nonce, out var current) && current);

        // Another instance's (another key), and damaged or foreign strings, never hold.
        Assert.False(new DPoPNonces(time).IsValid(nonce, out _));
        Assert.False(nonces.IsValid(nonce[..^1] + (nonce[^1] == 'A' ? 'B' : 'A'), out _));
        Assert.False(nonces.IsValid(nonce + "A", out _));
        Assert.False(nonces.IsValid(new string('*', DPoPNonces.Length), out _));
        Assert.False(nonces.IsValid(string.Empty, out _));

        // A period on it is still accepted, and the validator gives the client the current one with the answer.
        time.Advance(DPoPNonces.Period);
        Assert.True(nonces.IsValid(nonce, out current));
        Assert.False(current);
        Assert.NotEqual(nonce, nonces.Current);
        var settings = new AgentOAuthSettings { Resource = OfflineResource, DPoPNonce = true };
        var validator = new DPoPProofValidator(new ProtectedResource(settings, null!), settings, time, nonces, NoLedger, capacity: 10);
        var request = OfflineRequest(Proof(_key, "POST", OfflineResource, "token", issuedAt: time.GetUtcNow(), nonce: nonce));
        Assert.Null(await validator.CheckAsync(request, "token", Thumbprint(_key)));
        Assert.Equal(nonces.Current, request.HttpContext.Response.Headers[DPoPProofValidator.NonceHeader].ToString());

        // Two periods on, it is refused.
        time.Advance(DPoPNonces.Period);
        Assert.False(nonces.IsValid(nonce, out _));
        request = OfflineRequest(Proof(_key, "POST", OfflineResource, "token", issuedAt: time.GetUtcNow(), nonce: nonce));
        Assert.Equal(DPoPProofValidator.NonceRefusal, await validator.CheckAsync(request, "token", Thumbprint(_key)));
    }

    /// <summary>A DPoP client as RFC 9449 §9 describes it: a proof on each request, with the last nonce the server gave; a <c>use_dpop_nonce</c> answer is retried once with the new one.</summary>
    private sealed class NonceFollowingHandler(Func<HttpRequestMessage, string?, string> proof, string token) : DelegatingHandler(new SocketsHttpHandler())
    {
        private string? _nonce;
        private int _asked;

        public int NoncesAsked => Volatile.Read(ref _asked);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            var response = await SendWithProofAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized
                && response.Headers.WwwAuthenticate.ToString().Contains("error=\"use_dpop_nonce\"", StringComparison.Ordinal)
                && response.Headers.TryGetValues(DPoPProofValidator.NonceHeader, out var given))
            {
                Volatile.Write(ref _nonce, given.First());
                Interlocked.Increment(ref _asked);
                response.Dispose();
                var retry = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version };
                foreach (var header in request.Headers)
                {
                    retry.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                if (body is not null)
                {
                    retry.Content = new ByteArrayContent(body);
                    foreach (var header in request.Content!.Headers)
                    {
                        retry.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }

                response = await SendWithProofAsync(retry, cancellationToken);
            }
            else if (response.Headers.TryGetValues(DPoPProofValidator.NonceHeader, out var renewed))
            {
                Volatile.Write(ref _nonce, renewed.First());
            }

            return response;
        }

        private Task<HttpResponseMessage> SendWithProofAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
            request.Headers.Remove("DPoP");
            request.Headers.TryAddWithoutValidation("DPoP", proof(request, Volatile.Read(ref _nonce)));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
