using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>
/// An enterprise identity provider on loopback as a resource's authorization server sees one: OpenID Connect discovery
/// and a JWKS with its P-256 key, over real HTTP. It signs identity assertion grants (ID-JAG) with that key, as its
/// token exchange endpoint would hand them to a client; a test shapes each one (claims, header type, lifetime).
/// </summary>
internal sealed class TestEnterpriseIdp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ECDsaSecurityKey _key;

    private TestEnterpriseIdp(WebApplication app, ECDsaSecurityKey key)
    {
        _app = app;
        _key = key;
        Issuer = app.Urls.First().TrimEnd('/');
    }

    /// <summary>Gets the issuer URL (no trailing slash).</summary>
    public string Issuer { get; }

    public static async Task<TestEnterpriseIdp> StartAsync()
    {
        var key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "idp-key-1" };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key);
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) =>
        {
            var issuer = $"{context.Request.Scheme}://{context.Request.Host}";
            return Results.Json(new Dictionary<string, object> { ["issuer"] = issuer, ["jwks_uri"] = issuer + "/jwks", ["token_endpoint"] = issuer + "/token" });
        });
        app.MapGet("/jwks", () => Results.Json(new { keys = new[] { new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid = jwk.Kid, use = "sig", alg = "ES256" } } }));
        await app.StartAsync();
        return new TestEnterpriseIdp(app, key);
    }

    /// <summary>
    /// An ID-JAG for <paramref name="subject"/> and <paramref name="clientId"/>, addressed to <paramref name="audience"/>
    /// (the resource's authorization server) for <paramref name="resource"/>; <paramref name="shape"/> changes the claims.
    /// </summary>
    public string Assertion(string subject, string clientId, string audience, string? resource, string? scope = "mcp", Action<Dictionary<string, object>>? shape = null, string type = "oauth-id-jag+jwt", SecurityKey? signingKey = null, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null)
    {
        var now = issuedAt ?? DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = audience,
            ["client_id"] = clientId,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.Add(lifetime ?? TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
            ["email"] = $"{subject}@example.com",
        };
        if (resource is not null)
        {
            claims["resource"] = resource;
        }

        if (scope is not null)
        {
            claims["scope"] = scope;
        }

        shape?.Invoke(claims);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = type,
            SigningCredentials = new SigningCredentials(signingKey ?? _key, SecurityAlgorithms.EcdsaSha256),
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
