using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Identity;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// A console user as agents' access tokens name them. An OIDC user of the issuer that agents' tokens come from is
/// recorded in the console as <c>sub@issuer-host</c>, and those tokens carry the bare <c>sub</c>; a local user (or
/// one of another issuer) is named the same in both. Every decision that compares a console user with the user an
/// agent acts for (connecting an account, four eyes on approvals, disabling a user) compares this name.
/// </summary>
internal static class AgentsUser
{
    /// <summary>The agents' name of the signed-in console user <paramref name="principal"/>.</summary>
    public static string Of(ClaimsPrincipal principal, AgentOAuthSettings oauth) =>
        Of(principal.Identity?.Name ?? string.Empty, principal.FindFirstValue(ConsoleClaims.Source) == "oidc", oauth);

    /// <summary>The agents' name of the console user <paramref name="user"/>.</summary>
    public static string Of(ConsoleUser user, AgentOAuthSettings oauth) => Of(user.UserName, user.Source == ConsoleUserSource.Oidc, oauth);

    private static string Of(string name, bool oidc, AgentOAuthSettings oauth) =>
        oidc && Uri.TryCreate(oauth.Issuer, UriKind.Absolute, out var issuer) && name.EndsWith("@" + issuer.Authority, StringComparison.OrdinalIgnoreCase)
            ? name[..^(issuer.Authority.Length + 1)]
            : name;
}
