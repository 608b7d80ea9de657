using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>DPoP proofs (RFC 9449) as a client makes them, each part of which a test can make wrong, and an SDK client's handler that sends them.</summary>
internal static class DPoPProofs
{
    /// <summary>Passed as a proof's issue time: the proof carries none.</summary>
    public static readonly object NoIssueTime = new();

    /// <summary>Passed as a proof's key: the proof carries none.</summary>
    public static readonly Dictionary<string, object> NoJwk = [];

    /// <summary>A DPoP proof signed by <paramref name="key"/> (RFC 9449 §4.2); each part can be made wrong.</summary>
    public static string Proof(
        ECDsa key,
        string method,
        string uri,
        string token,
        Dictionary<string, object>? jwk = null,
        string type = "dpop+jwt",
        DateTimeOffset? issuedAt = null,
        string? jti = "",
        string? pad = null,
        object? issuedAtValue = null,
        string? nonce = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["htm"] = method,
            ["htu"] = uri,
            ["iat"] = issuedAtValue ?? (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
            ["ath"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(token))),
        };
        if (ReferenceEquals(issuedAtValue, NoIssueTime))
        {
            claims.Remove("iat");
        }

        if (jti is not null)
        {
            claims["jti"] = jti.Length == 0 ? Guid.NewGuid().ToString("N") : jti;
        }

        if (pad is not null)
        {
            claims["pad"] = pad;
        }

        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        var headers = new Dictionary<string, object>();
        if (!ReferenceEquals(jwk, NoJwk))
        {
            headers["jwk"] = jwk ?? Jwk(key, includePrivate: false);
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = type,
            AdditionalHeaderClaims = headers,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });
    }

    public static Dictionary<string, object> Jwk(ECDsa key, bool includePrivate)
    {
        var parameters = key.ExportParameters(includePrivate);
        var jwk = new Dictionary<string, object>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X!),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y!),
        };
        if (includePrivate)
        {
            jwk["d"] = Base64UrlEncoder.Encode(parameters.D!);
        }

        return jwk;
    }

    /// <summary>The key's RFC 7638 thumbprint, as an issuer puts it in <c>cnf.jkt</c>.</summary>
    public static string Thumbprint(ECDsa key) =>
        Base64UrlEncoder.Encode(new JsonWebKey(JsonSerializer.Serialize(Jwk(key, includePrivate: false))).ComputeJwkThumbprint());

    /// <summary>Sends every request of the SDK client under the DPoP scheme with a fresh proof for it.</summary>
    public sealed class ProofHandler(Func<HttpRequestMessage, string> proof, string token) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
            request.Headers.Remove("DPoP");
            request.Headers.TryAddWithoutValidation("DPoP", proof(request));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
