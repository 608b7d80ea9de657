using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Web.Credentials.Users;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

namespace Gateway.Web.Identity;

/// <summary>
/// Turns a validated ID token into the console's principal: the user is recorded (<c>sub@issuer-host</c>, stable
/// across name changes), the provider's role claim is mapped to console roles, and roles assigned in the console add to them.
/// </summary>
internal sealed partial class OidcSignIn(IConsoleUserStore store, ConsoleSignInSettings settings, ConsoleSignInAudit audit, UserRevocationChanges revocations, TimeProvider time, ILogger<OidcSignIn> logger)
{
    private readonly RoleMapping _mapping = new(settings.Oidc.Roles.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value));

    public async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var token = context.Principal!;
        var subject = token.FindFirstValue("sub");
        var issuer = token.FindFirstValue("iss") ?? settings.Oidc.Authority!;
        if (string.IsNullOrEmpty(subject))
        {
            context.Fail("The ID token has no subject.");
            return;
        }

        var userName = $"{subject}@{(Uri.TryCreate(issuer, UriKind.Absolute, out var uri) ? uri.Authority : issuer)}";
        var displayName = DisplayName(token.FindFirstValue(settings.Oidc.NameClaim) ?? token.FindFirstValue("preferred_username") ?? token.FindFirstValue("email") ?? subject);
        if (userName.Length > RevokedUser.MaxUserLength)
        {
            // The user is revoked and restored under this name (disabling, the provider's logout): it must fit there.
            context.Fail($"The ID token's subject and issuer name a user of more than {RevokedUser.MaxUserLength} characters.");
            return;
        }

        var roles = _mapping.Map(token.FindAll(settings.Oidc.RoleClaim).Select(c => c.Value));
        var user = await store.UpsertExternalAsync(userName, displayName, roles, time.GetUtcNow(), context.HttpContext.RequestAborted);
        if (!user.Enabled)
        {
            await audit.RecordAsync(context.HttpContext, null, $"OpenID Connect sign-in refused for disabled '{userName}'");
            context.Fail("This account is disabled in the gateway.");
            return;
        }

        await audit.RecordAsync(context.HttpContext, userName, null);

        // The provider signed the user in again: a back-channel logout it sent before no longer stands (an admin's revocation does).
        using (Gateway.Core.Audit.Admin.AuditActor.Use(Gateway.Core.Audit.Admin.AuditActor.Console(userName)))
        {
            await revocations.RestoreAsync(userName, RevocationReason.IdentityProviderLogout, context.HttpContext.RequestAborted);
        }

        LogSignedIn(logger, userName, string.Join(",", user.Roles));
        context.Principal = ConsoleClaims.Create(user);
    }

    /// <summary>The provider's name for the user, at most the 256 characters a console user's display name has.</summary>
    private static string DisplayName(string name) =>
        name.Length <= MaxDisplayName ? name : name[..(char.IsHighSurrogate(name[MaxDisplayName - 1]) ? MaxDisplayName - 1 : MaxDisplayName)];

    private const int MaxDisplayName = 256;

    public static Task OnRemoteFailureAsync(Microsoft.AspNetCore.Authentication.RemoteFailureContext context)
    {
        // Back to the sign-in page with a message, not an exception page.
        context.Response.Redirect("/login?error=sso");
        context.HandleResponse();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Console: '{UserName}' signed in through OpenID Connect with roles [{Roles}].")]
    private static partial void LogSignedIn(ILogger logger, string userName, string roles);
}
