using Microsoft.Extensions.Primitives;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>Sends a bearer token to the scheme that understands it: a JWT (three base64url parts, under Bearer or DPoP) to OAuth, anything else to API keys.</summary>
internal static class AgentCredentialSelector
{
    public static string Select(HttpContext context)
    {
        StringValues values = context.Request.Headers.Authorization;
        var value = values.Count == 1 ? values[0] ?? string.Empty : string.Empty;
        var scheme = value.StartsWith(BearerToken.DPoP, StringComparison.OrdinalIgnoreCase) ? BearerToken.DPoP.Length
            : value.StartsWith(BearerToken.Bearer, StringComparison.OrdinalIgnoreCase) ? BearerToken.Bearer.Length
            : 0;
        return scheme > 0 && value.AsSpan(scheme).TrimStart().StartsWith("eyJ", StringComparison.Ordinal) && value.AsSpan().Count('.') >= 2
            ? GatewayAuthenticationDefaults.OAuthScheme
            : GatewayAuthenticationDefaults.AgentScheme;
    }
}
