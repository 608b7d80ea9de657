using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The first look at a JWT an identity provider signs (an access token, a logout token, an identity assertion): bounded
/// in length, readable, signed and not encrypted, with an asymmetric algorithm (<see cref="JwtAlgorithms"/>). One rule
/// for every kind, each refusal naming the kind.
/// </summary>
internal static class SignedJwt
{
    /// <summary>The token, or <see langword="null"/> with <paramref name="refusal"/> saying why it is not one to check further.</summary>
    /// <param name="noun">What the token is, as refusals name it ("token", "logout token", "assertion").</param>
    /// <param name="encryptedRefusal">The refusal of an encrypted one (what the issuer should do instead differs by kind).</param>
    public static JsonWebToken? Read(JsonWebTokenHandler handler, string text, int maxLength, string noun, string encryptedRefusal, out string? refusal)
    {
        refusal = null;
        if (text.Length > maxLength)
        {
            refusal = $"The {noun} is longer than {maxLength} characters.";
            return null;
        }

        JsonWebToken jwt;
        try
        {
            jwt = handler.CanReadToken(text) ? handler.ReadJsonWebToken(text) : throw new ArgumentException("not a JWT");
        }
        catch (ArgumentException)
        {
            refusal = $"The {noun} is not a JWT.";
            return null;
        }

        if (jwt.IsEncrypted)
        {
            refusal = encryptedRefusal;
            return null;
        }

        if (!JwtAlgorithms.Asymmetric.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            // alg "none", symmetric algorithms (a public key used as an HMAC secret) and anything unknown.
            refusal = $"The {noun}'s signing algorithm is not accepted.";
            return null;
        }

        return jwt;
    }
}
