using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The signature algorithms the gateway accepts on tokens an identity provider signs (access tokens, logout tokens):
/// asymmetric only, so a token cannot be forged with a key the gateway also holds, and never <c>none</c>. One list, so
/// every kind of token is held to the same rule.
/// </summary>
internal static class JwtAlgorithms
{
    public static readonly string[] Asymmetric =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];
}
