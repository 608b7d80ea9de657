using Microsoft.AspNetCore;
using System.Security.Claims;
using Gateway.Web.Console;
using Gateway.Web.Identity;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The authorization endpoint, after OpenIddict has validated the request (client, redirect URI, PKCE S256, scopes,
/// resource): the user signs in through the console's own login (local account or the console's OIDC IdP) and comes
/// back here; the code then speaks for that user. Console roles travel as the user's groups, so
/// <see cref="AgentOAuthSettings.GroupGrants"/> can narrow an agent per role.
/// </summary>
internal static class AuthorizeEndpoint
{
    public const string Path = "/oauth/authorize";

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> AuthorizeAsync(HttpContext context, AgentOAuthSettings settings, ProtectedResource resource)
    {
        var request = context.GetOpenIddictServerRequest();
        if (request is null)
        {
            return Results.BadRequest();
        }

        var console = await context.AuthenticateAsync(ConsoleDefaults.Scheme);
        if (!console.Succeeded || console.Principal.Identity?.Name is not { Length: > 0 } user || console.Principal.HasClaim(c => c.Type == ConsoleClaims.MustChangePassword))
        {
            // To the console's login and back to this request (as a GET: a POSTed request's parameters go in the query).
            var back = Path + QueryString.Create(request.GetParameters().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
            return Results.Challenge(new AuthenticationProperties { RedirectUri = back }, [ConsoleDefaults.Scheme]);
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.AddClaim(new Claim(Claims.Subject, user));
        if (settings.UserClaim != Claims.Subject)
        {
            identity.AddClaim(new Claim(settings.UserClaim, user));
        }

        identity.AddClaim(new Claim(Claims.Name, console.Principal.FindFirstValue(ConsoleClaims.DisplayName) ?? user));
        foreach (var role in console.Principal.FindAll(ClaimTypes.Role))
        {
            identity.AddClaim(new Claim(settings.GroupsClaim, role.Value));
        }

        // The scopes asked for (OpenIddict checked them against the registered ones), and always offline_access:
        // MCP clients rarely ask for it, yet they hold the session for days and should not sign the user in each hour.
        identity.SetScopes(request.GetScopes().Append(Scopes.OfflineAccess).Distinct(StringComparer.Ordinal));

        // The access token's audience is the gateway's resource URL (RFC 8707), whatever resource the client named:
        // OpenIddict refused any other resource already.
        identity.SetResources(resource.Resource);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
