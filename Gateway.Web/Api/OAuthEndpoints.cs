using Gateway.Web.Admin.Servers;
using Gateway.Web.Authentication;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Console;
using Gateway.Web.Credentials.OAuth;
using Gateway.Web.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary>Body of <c>POST /api/v1/servers/{name}/oauth/authorize</c>.</summary>
public sealed record AuthorizeRequest(string? ClientId, string? ClientSecret, string? Scope, string? AuthorizationServer);

/// <summary>Where the admin signs in; the redirect URI must be registered for the client at the authorization server.</summary>
public sealed record AuthorizeResponse(Uri AuthorizationUrl, string RedirectUri, DateTimeOffset ExpiresAt);

/// <summary>The admin-driven OAuth authorization of an upstream: start (admin API) and callback (the admin's browser).</summary>
internal static class OAuthEndpoints
{
    public static void MapOAuthEndpoints(this RouteGroupBuilder api) =>
        api.MapPost("/servers/{name}/oauth/authorize", AuthorizeAsync).WithTags("Servers")
            .WithSummary("Starts the authorization code flow (PKCE) at the upstream's authorization server; the callback stores the refresh token as the server's credential.")
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);

    /// <summary>
    /// The callback is reached by the admin's (or the connecting user's) browser, without the admin key: the single-use
    /// state binds it to the flow, and a flow a console user started (a user's connection, or an admin's authorization
    /// from the console or with their cookie) also to that user's console sign-in.
    /// </summary>
    public static void MapOAuthCallback(this WebApplication app) =>
        app.MapGet(AuthorizationCodeFlow.CallbackPath, CallbackAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<Results<Ok<AuthorizeResponse>, AdminRefusal, ProblemHttpResult>> AuthorizeAsync(
        string name, AuthorizeRequest request, HttpContext context, ServerOperations servers, CancellationToken ct)
    {
        var redirectUri = $"{context.Request.Scheme}://{context.Request.Host}{AuthorizationCodeFlow.CallbackPath}";
        try
        {
            var start = new AuthorizationStart(request.ClientId ?? string.Empty, request.ClientSecret, request.Scope, request.AuthorizationServer);
            var started = await servers.StartAuthorizationAsync(name, start, redirectUri, ct);
            return started.IsDone ? TypedResults.Ok(new AuthorizeResponse(started.Value.Url, redirectUri, started.Value.ExpiresAt)) : new AdminRefusal(started.Outcome, started.Message, started.Errors);
        }
        catch (OAuthException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status502BadGateway);
        }
    }

    private static async Task<IResult> CallbackAsync(
        HttpContext context, AuthorizationCodeFlow flow, AgentOAuthSettings oauth, Gateway.Web.Admin.AdminActor actor, Gateway.Web.Admin.Servers.ServerOperations servers, CancellationToken ct)
    {
        try
        {
            // The console user of this browser (the cookie comes along: a top-level GET redirect, SameSite=Lax).
            var console = await context.AuthenticateAsync(ConsoleDefaults.Scheme);
            var browserUser = console.Succeeded ? Gateway.Web.Credentials.Users.AgentsUser.Of(console.Principal, oauth) : null;
            var (server, user) = await flow.CompleteAsync(
                context.Request.Query,
                browserUser,
                console.Succeeded ? console.Principal.GetUserId() : null,
                async (name, credential, byConsoleUser, c) =>
                {
                    // A server's own credential is an admin change, made now by whoever started it: the console user who
                    // completes it here (the flow checked it is them; their role as it is now, the cookie having been
                    // checked again on this request), or the admin key; the server not taken over by configuration
                    // meanwhile; audited under their name.
                    if (byConsoleUser)
                    {
                        actor.Set(console.Principal!, Gateway.Core.Audit.Admin.AuditActor.Console(console.Principal!.Identity?.Name));
                    }
                    else
                    {
                        actor.Set(AdminKeyAuthenticationHandler.PrincipalOf(Gateway.Core.Identity.ConsoleRoles.Admin), "admin-api");
                    }

                    return await servers.SetCredentialAsync(name, credential, c) is { IsDone: false } refused ? refused.Message ?? refused.Outcome.ToString() : null;
                },
                ct);
            return Results.Text(user is null
                ? $"Authorized: the refresh token of '{server}' is stored and the server reconnects with it. You can close this page."
                : $"Connected: calls to '{server}' made for {user} now use this account. You can close this page.");
        }
        catch (OAuthException ex)
        {
            // Plain text: nothing from the query is ever rendered as HTML.
            return Results.Text(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
