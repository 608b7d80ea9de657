using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Web.Console;

namespace Gateway.Web.Identity;

/// <summary>The console's principal: one shape for local and OIDC users, so pages and policies see the same claims.</summary>
public static class ConsoleClaims
{
    /// <summary>The user's row id, checked against the database on each console request.</summary>
    public const string UserId = "mcpgw:uid";

    /// <summary>The name shown in the app bar.</summary>
    public const string DisplayName = "mcpgw:display";

    /// <summary><c>local</c> or <c>oidc</c>: only local users change their password here.</summary>
    public const string Source = "mcpgw:source";

    /// <summary>Present while a one-time password must be replaced; only the password page is open then.</summary>
    public const string MustChangePassword = "mcpgw:must_change_password";

    /// <summary>Builds the principal stored in the console cookie.</summary>
    public static ClaimsPrincipal Create(ConsoleUser user)
    {
        List<Claim> claims =
        [
            new(UserId, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, user.UserName),
            new(DisplayName, user.DisplayName),
            new(Source, user.Source == ConsoleUserSource.Local ? "local" : "oidc"),
        ];
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        if (user.MustChangePassword)
        {
            claims.Add(new Claim(MustChangePassword, "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, ConsoleDefaults.Scheme));
    }

    /// <summary>Reads the user id of a console principal.</summary>
    public static long? GetUserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(UserId), out var id) ? id : null;

    /// <summary>Tells whether the principal holds any of the comma-separated roles.</summary>
    public static bool IsInAnyRole(this ClaimsPrincipal principal, string roles) =>
        roles.Split(',').Any(principal.IsInRole);
}
