using System.Collections.Immutable;
using System.Security.Claims;
using Gateway.Web.Console;
using Gateway.Web.Identity;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The authorization endpoint, after OpenIddict has validated the request (client, redirect URI, PKCE S256, scopes,
/// resource): the user signs in through the console's own login (local account or the console's OIDC IdP), allows the
/// client on the consent page (once per client, redirect URI and scopes: <see cref="OAuthConsents"/>) and comes back
/// here; the code then speaks for that user. Console roles travel as the user's groups, so
/// <see cref="AgentOAuthSettings.GroupGrants"/> can narrow an agent per role.
/// </summary>
internal static class AuthorizeEndpoint
{
    public const string Path = "/oauth/authorize";

    /// <summary>The consent page's field carrying the user's decision: <see cref="Allow"/> or <see cref="Deny"/>.</summary>
    public const string DecisionField = "consent";

    public const string Allow = "allow";

    public const string Deny = "deny";

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> AuthorizeAsync(
        HttpContext context, AgentOAuthSettings settings, ProtectedResource resource, IOpenIddictApplicationManager applications, OAuthConsents consents, IAntiforgery antiforgery)
    {
        var request = context.GetOpenIddictServerRequest();
        if (request is null)
        {
            return Results.BadRequest();
        }

        var console = await context.AuthenticateAsync(ConsoleDefaults.Scheme);
        if (!console.Succeeded || console.Principal.Identity?.Name is not { Length: > 0 } user || console.Principal.HasClaim(c => c.Type == ConsoleClaims.MustChangePassword))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Refuse(Errors.LoginRequired, "The user is not signed in to the gateway.");
            }

            // To the console's login and back to this request (as a GET: a POSTed request's parameters go in the query).
            return Results.Challenge(new AuthenticationProperties { RedirectUri = Path + Query(request) }, [ConsoleDefaults.Scheme]);
        }

        // OpenIddict found the client already; a client deleted since then is an invalid request.
        if (await applications.FindByClientIdAsync(request.ClientId!, context.RequestAborted) is not { } application
            || await applications.GetIdAsync(application, context.RequestAborted) is not { } applicationId)
        {
            return Results.BadRequest();
        }

        // The scopes asked for (OpenIddict checked them against the registered ones), and always offline_access:
        // MCP clients rarely ask for it, yet they hold the session for days and should not sign the user in each hour.
        var scopes = request.GetScopes().Append(Scopes.OfflineAccess).Distinct(StringComparer.Ordinal).ToImmutableArray();
        var identity = Identity(console.Principal, user, settings, resource, scopes);

        // The consent page's answer. Only a POST carrying the page's antiforgery token counts: a link (a GET) or another
        // site's form cannot answer for the user, which is the whole point of asking.
        if (HttpMethods.IsPost(context.Request.Method) && request.GetParameter(DecisionField)?.ToString() is { } decision)
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Results.BadRequest();
            }

            switch (decision)
            {
                case Deny:
                    return Refuse(Errors.AccessDenied, "The user did not allow this client.");
                case Allow:
                    var name = await applications.GetDisplayNameAsync(application, context.RequestAborted);
                    try
                    {
                        identity.SetAuthorizationId(await consents.GrantAsync(identity, user, applicationId, request.ClientId!, name, request.RedirectUri!, scopes, context.RequestAborted));
                    }
                    catch (Gateway.Core.Audit.AuditUnavailableException)
                    {
                        // No consent without its entry: the client is told to come back (RFC 6749 4.1.2.1), the user asks again then.
                        return Refuse(Errors.TemporarilyUnavailable, "The consent could not be recorded in the gateway's audit trail; try again later.");
                    }

                    return SignIn(identity);
                default:
                    return Results.BadRequest();
            }
        }

        var consent = request.HasPromptValue(PromptValues.Consent)
            ? null
            : await consents.FindAsync(user, applicationId, request.RedirectUri!, scopes, context.RequestAborted);
        if (consent is not null)
        {
            identity.SetAuthorizationId(consent);
            return SignIn(identity);
        }

        return request.HasPromptValue(PromptValues.None)
            ? Refuse(Errors.ConsentRequired, "The user has not allowed this client yet.")
            : Results.Redirect(Components.Pages.OAuthConsent.Path + Query(request));
    }

    private static ClaimsIdentity Identity(ClaimsPrincipal console, string user, AgentOAuthSettings settings, ProtectedResource resource, ImmutableArray<string> scopes) =>
        AccessTokenIdentity.Create(user, console.FindFirstValue(ConsoleClaims.DisplayName) ?? user, console.FindAll(ClaimTypes.Role).Select(r => r.Value), scopes, settings, resource);

    private static IResult SignIn(ClaimsIdentity identity) =>
        Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    // OpenIddict sends the error to the client's (validated) redirect URI with its state.
    private static IResult Refuse(string error, string description) =>
        Results.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    // The request's parameters as a query string, without a decision or an antiforgery token (the consent page adds its own).
    private static QueryString Query(OpenIddictRequest request) =>
        QueryString.Create(request.GetParameters()
            .Where(p => p.Key != DecisionField && !p.Key.StartsWith("__", StringComparison.Ordinal))
            .Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
}
