using System.Security.Claims;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>Who an OAuth access token speaks for: the client (the agent software) and the user it acts on behalf of.</summary>
/// <param name="ClientId">The token's <c>client_id</c> (RFC 9068), or <c>azp</c>, or the empty string when it names none.</param>
/// <param name="User">The user (<see cref="AgentOAuthSettings.UserClaim"/>, <c>sub</c> by default).</param>
/// <param name="Groups">The user's groups or roles (<see cref="AgentOAuthSettings.GroupsClaim"/>).</param>
/// <param name="Scopes">The scopes granted to the client (<c>scope</c>, or Entra's <c>scp</c>).</param>
internal sealed record OAuthCaller(string ClientId, string User, IReadOnlyList<string> Groups, IReadOnlyList<string> Scopes)
{
    /// <summary>The longest claim value kept; a token's claims are the issuer's, but they reach the audit and the log.</summary>
    private const int MaxValueLength = 256;

    /// <summary>Reads the caller from validated claims, or returns <see langword="null"/> when the token names no user.</summary>
    public static OAuthCaller? From(ClaimsIdentity claims, AgentOAuthSettings settings)
    {
        var user = claims.FindFirst(settings.UserClaim)?.Value;
        if (string.IsNullOrEmpty(user))
        {
            return null;
        }

        var client = claims.FindFirst("client_id")?.Value ?? claims.FindFirst("azp")?.Value ?? string.Empty;
        var groups = claims.FindAll(settings.GroupsClaim).Select(c => Bound(c.Value)).Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var scopes = (claims.FindFirst("scope")?.Value ?? claims.FindFirst("scp")?.Value ?? string.Empty)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Bound).Distinct(StringComparer.Ordinal).ToArray();
        return new OAuthCaller(Bound(client), Bound(user), groups, scopes);
    }

    private static string Bound(string value) => value.Length <= MaxValueLength ? value : value[..MaxValueLength];
}
