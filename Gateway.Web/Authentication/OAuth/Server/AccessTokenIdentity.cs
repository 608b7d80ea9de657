using System.Collections.Immutable;
using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The claims of an access token the gateway issues for a user, however the user came (the console's sign-in behind
/// the authorization endpoint, or an enterprise IdP's identity assertion): the user as subject (and as
/// <see cref="AgentOAuthSettings.UserClaim"/>), a name, the user's console roles as groups (for
/// <see cref="AgentOAuthSettings.GroupGrants"/>), the scopes, and the gateway's resource URL as audience.
/// </summary>
internal static class AccessTokenIdentity
{
    public static ClaimsIdentity Create(string user, string name, IEnumerable<string> groups, ImmutableArray<string> scopes, AgentOAuthSettings settings, ProtectedResource resource)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.AddClaim(new Claim(Claims.Subject, user));
        if (settings.UserClaim != Claims.Subject)
        {
            identity.AddClaim(new Claim(settings.UserClaim, user));
        }

        identity.AddClaim(new Claim(Claims.Name, name));
        foreach (var group in groups)
        {
            identity.AddClaim(new Claim(settings.GroupsClaim, group));
        }

        identity.SetScopes(scopes);

        // The access token's audience is the gateway's resource URL (RFC 8707), whatever resource the client named:
        // OpenIddict refused any other resource already.
        identity.SetResources(resource.Resource);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return identity;
    }
}
