using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Authentication.OAuth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.DPoPProofs;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// DPoP-bound access tokens (RFC 9449) from the enterprise issuer (a real OpenIddict server's signing key): under the
/// DPoP scheme with a fresh proof of the bound key on every request they work through the C# SDK client; every wrong
/// proof is refused 401 with a DPoP challenge and the reason, audited, and nothing reaches an upstream.
/// </summary>
public sealed partial class DPoPTests : IAsyncLifetime
{
    private const string Secret = "issuer-client-secret-0123456789";

    /// <summary>The validators built here keep to their own memory (DPoPSharedReplay off): they never reach a ledger.</summary>
    private static readonly Gateway.Core.Sessions.ISingleUseLedger NoLedger = null!;

    /// <summary>The resource of the validators checked without a server (<see cref="OfflineRequest"/>).</summary>
    private const string OfflineResource = "https://gw.example/mcp";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private TestTokenServer _issuer = null!;

    public async Task InitializeAsync() => _issuer = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync()
    {
        await _issuer.DisposeAsync();
        _key.Dispose();
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task ABoundToken_WithAFreshProofOnEveryRequest_ListsAndCallsTools_AndTheMetadataNamesTheAlgorithms(string revision)
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.WaitForToolAsync("files__echo");
        var token = Token(gateway, Thumbprint(_key));

        // The SDK client's requests each carry a proof made for their method and URI: in a 2025-11-25 session the
        // initialize, the notification, the listing, the call and the DELETE at the end; in 2026-07-28 each stateless request.
        var proofs = 0;
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions { Endpoint = gateway.McpUri, TransportMode = HttpTransportMode.StreamableHttp },
            new HttpClient(new ProofHandler(request =>
            {
                Interlocked.Increment(ref proofs);
                return Proof(_key, request.Method.Method, request.RequestUri!.GetLeftPart(UriPartial.Path), token);
            }, token)),
            ownsHttpClient: true);
        await using (var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = revision }, cancellationToken: TestContext.Timeout))
        {
            Assert.Contains(await client.ListToolsAsync(cancellationToken: TestContext.Timeout), t => t.Name == "files__echo");
            var result = await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "bound" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
        }

        Assert.True(proofs >= 3, $"{proofs} proofs");
        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Actor.StartsWith("oauth-agents", StringComparison.Ordinal) && e.Record.Outcome == AuditOutcomes.Ok);
        Assert.DoesNotContain(trail, e => e.Record.Kind == AuditKinds.AgentAuthentication);

        using var http = new HttpClient();
        using var metadata = JsonDocument.Parse(await http.GetStringAsync(new Uri(gateway.McpUri, ProtectedResource.MetadataPath + "/mcp"), TestContext.Timeout));
        var algorithms = metadata.RootElement.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("ES256", algorithms);
        Assert.DoesNotContain("HS256", algorithms);
    }

    public static TheoryData<string, string, string> BadProofs => new()
    {
        // kind, the error code, the reason
        { "missing", "invalid_dpop_proof", "The request has no DPoP proof." },
        { "two", "invalid_dpop_proof", "The request has more than one DPoP proof." },
        { "not-a-jwt", "invalid_dpop_proof", "The DPoP proof is not a signed JWT." },
        { "no-key", "invalid_dpop_proof", "The DPoP proof carries no public key (jwk)." },
        { "private-key", "invalid_dpop_proof", "The DPoP proof's key holds private parts." },
        { "unknown-key-type", "invalid_dpop_proof", "The DPoP proof's key (jwk) is not a public key of a known type." },
        { "incomplete-key", "invalid_dpop_proof", "The DPoP proof's key (jwk) is not a public key of a known type." },
        { "typ-jwt", "invalid_dpop_proof", "The DPoP proof's type (typ) is not dpop+jwt." },
        { "tampered", "invalid_dpop_proof", "The DPoP proof's signature is invalid." },
        { "other-method", "invalid_dpop_proof", "The DPoP proof is for another HTTP method (htm)." },
        { "other-uri", "invalid_dpop_proof", "The DPoP proof is for another URI (htu)." },
        { "uri-with-query", "invalid_dpop_proof", "The DPoP proof is for another URI (htu)." },
        { "no-iat", "invalid_dpop_proof", "The DPoP proof has no issue time (iat)." },
        { "old", "invalid_dpop_proof", "The DPoP proof was not issued just now (iat)." },
        { "future", "invalid_dpop_proof", "The DPoP proof was not issued just now (iat)." },
        { "other-token", "invalid_dpop_proof", "The DPoP proof is for another access token (ath)." },
        { "other-key", "invalid_dpop_proof", "The DPoP proof is signed by another key than the one the token is bound to." },
        { "no-jti", "invalid_dpop_proof", $"The DPoP proof has no id (jti) or one longer than {DPoPProofValidator.MaxJtiLength} characters." },
        { "long-jti", "invalid_dpop_proof", $"The DPoP proof has no id (jti) or one longer than {DPoPProofValidator.MaxJtiLength} characters." },
        { "unbound-token", "invalid_token", "The token came under the DPoP scheme but is not bound to a DPoP key (cnf.jkt)." },
    };

    [Theory]
    [MemberData(nameof(BadProofs))]
    public async Task AWrongProof_Gets401WithADPoPChallengeAndTheReason_IsAudited_AndNothingIsForwarded(string kind, string error, string reason)
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.WaitForToolAsync("files__echo");
        var uri = gateway.McpUri.ToString();
        var token = Token(gateway, Thumbprint(_key));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        string[] proofs = kind switch
        {
            "missing" => [],
            "two" => [Proof(_key, "POST", uri, token), Proof(_key, "POST", uri, token)],
            "not-a-jwt" => ["not.a.jwt"],
            "no-key" => [Proof(_key, "POST", uri, token, jwk: NoJwk)],
            "private-key" => [Proof(_key, "POST", uri, token, jwk: Jwk(_key, includePrivate: true))],
            "unknown-key-type" => [Proof(_key, "POST", uri, token, jwk: new Dictionary<string, object> { ["kty"] = "XYZ", ["x"] = "AAAA" })],
            "incomplete-key" => [Proof(_key, "POST", uri, token, jwk: new Dictionary<string, object> { ["kty"] = "EC", ["crv"] = "P-256" })],
            "typ-jwt" => [Proof(_key, "POST", uri, token, type: "JWT")],
            "tampered" => [Tamper(Proof(_key, "POST", uri, token))],
            "other-method" => [Proof(_key, "GET", uri, token)],
            "other-uri" => [Proof(_key, "POST", new Uri(gateway.McpUri, "/api/v1/servers").ToString(), token)],
            "uri-with-query" => [Proof(_key, "POST", uri + "?x=1", token)],
            "no-iat" => [Proof(_key, "POST", uri, token, issuedAtValue: NoIssueTime)],
            "old" => [Proof(_key, "POST", uri, token, issuedAt: now - DPoPProofValidator.Window - TimeSpan.FromSeconds(5))],
            "future" => [Proof(_key, "POST", uri, token, issuedAt: now + TimeSpan.FromMinutes(2))],
            "other-token" => [Proof(_key, "POST", uri, Token(gateway, Thumbprint(_key), user: "someone-else"))],
            "other-key" => [Proof(other, "POST", uri, token)],
            "no-jti" => [Proof(_key, "POST", uri, token, jti: null)],
            "long-jti" => [Proof(_key, "POST", uri, token, jti: new string('j', DPoPProofValidator.MaxJtiLength + 1))],
            "unbound-token" => [Proof(_key, "POST", uri, token)],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var presented = kind == "unbound-token" ? Token(gateway, jkt: null) : token;

        using var response = await PostMcpAsync(gateway, "DPoP " + presented, proofs);

        var challenge = AgentOAuthGateway.AssertChallenged(response, "DPoP", error, reason);
        Assert.Contains("algs=\"RS256", challenge, StringComparison.Ordinal);
        await AgentOAuthGateway.AssertRefusedAndAuditedOnlyAsync(gateway, reason);
    }

    [Fact]
    public async Task AProofIsUsedOnce_ItsIssueTimeMayHaveAFraction_AndOneAtTheLengthLimitIsRead_OneOverIsNot()
    {
        await using var gateway = await StartGatewayAsync();
        var uri = gateway.McpUri.ToString();
        var token = Token(gateway, Thumbprint(_key));

        // The issue time may have a fraction (a NumericDate, RFC 7519).
        var proof = Proof(_key, "POST", uri, token, issuedAtValue: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        using (var first = await PostMcpAsync(gateway, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var replayed = await PostMcpAsync(gateway, "DPoP " + token, [proof]))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
            Assert.Contains("The DPoP proof was used before.", replayed.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        // Pad a valid proof (inside a claim) up to the limit: base64url grows by one or two characters per byte.
        string Padded(int pad) => Proof(_key, "POST", uri, token, pad: new string('p', pad));
        var pad = (DPoPProofValidator.MaxProofLength - Padded(0).Length) * 3 / 4;
        while (Padded(pad + 1).Length <= DPoPProofValidator.MaxProofLength)
        {
            pad++;
        }

        var atLimit = Padded(pad);
        Assert.InRange(atLimit.Length, DPoPProofValidator.MaxProofLength - 4, DPoPProofValidator.MaxProofLength);
        using (var accepted = await PostMcpAsync(gateway, "DPoP " + token, [atLimit]))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var over = Padded(pad + 1);
        Assert.True(over.Length > DPoPProofValidator.MaxProofLength);
        using var refused = await PostMcpAsync(gateway, "DPoP " + token, [over]);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains($"The DPoP proof is longer than {DPoPProofValidator.MaxProofLength} characters.", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RememberedProofs_AreBounded_AndRoomComesBackAsTheyExpire()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new AgentOAuthSettings { Resource = OfflineResource };
        var validator = new DPoPProofValidator(new ProtectedResource(settings, null!), settings, time, new DPoPNonces(time), NoLedger, capacity: 3);
        var jkt = Thumbprint(_key);
        Task<string?> CheckAsync()
        {
            var request = OfflineRequest(Proof(_key, "POST", OfflineResource, "token", issuedAt: time.GetUtcNow()));
            return validator.CheckAsync(request, "token", jkt);
        }

        // Three proofs are remembered; the fourth cannot be checked for replay and is refused, whatever it is.
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await CheckAsync());
        }

        Assert.Equal("Too many DPoP proofs in the last minutes (the DPoP proof cannot be checked for replay); try again shortly.", await CheckAsync());

        // Once their window (and the clock skew) has passed, they are forgotten and there is room again.
        time.Advance(DPoPProofValidator.Window + settings.ClockSkew + TimeSpan.FromSeconds(1));
        Assert.Null(await CheckAsync());
    }

    private Task<GatewayHost> StartGatewayAsync() => AgentOAuthGateway.StartAsync(_issuer);

    /// <summary>A <c>POST</c> to <see cref="OfflineResource"/> carrying <paramref name="proof"/>, for a validator checked without a server.</summary>
    private static Microsoft.AspNetCore.Http.HttpRequest OfflineRequest(string proof)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = "https";
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("gw.example");
        context.Request.Path = "/mcp";
        context.Request.Headers["DPoP"] = proof;
        return context.Request;
    }

    private static Task<HttpResponseMessage> PostMcpAsync(GatewayHost gateway, string authorization, string[] proofs) => AgentOAuthGateway.PostInitializeAsync(gateway, authorization, proofs);

    /// <summary>An access token of the issuer for this gateway, bound to the key whose thumbprint is <paramref name="jkt"/> (none: a bearer token).</summary>
    private string Token(GatewayHost gateway, string? jkt, string user = "mallory", string? audience = null)
    {
        var claims = new Dictionary<string, object> { ["client_id"] = "some-client", ["sub"] = user };
        if (jkt is not null)
        {
            claims["cnf"] = new Dictionary<string, object> { ["jkt"] = jkt };
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _issuer.Issuer,
            Audience = audience ?? gateway.McpUri.ToString(),
            Claims = claims,
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = _issuer.SigningCredentials,
        });
    }

    /// <summary>Changes the payload (a space more) and keeps the signature.</summary>
    private static string Tamper(string jwt)
    {
        var parts = jwt.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"iat\":", "\"iat\": ", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
    }
}
