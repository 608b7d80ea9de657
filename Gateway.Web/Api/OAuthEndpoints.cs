using Gateway.Web.Authentication;
using Gateway.Core.Servers;
using Gateway.Web.Credentials.OAuth;
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
            .RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);

    /// <summary>The callback is reached by the admin's browser, without the admin key: the single-use state is what binds it.</summary>
    public static void MapOAuthCallback(this WebApplication app) =>
        app.MapGet(AuthorizationCodeFlow.CallbackPath, CallbackAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<Results<Ok<AuthorizeResponse>, NotFound, ProblemHttpResult>> AuthorizeAsync(
        string name, AuthorizeRequest request, HttpContext context, IServerStore store, AuthorizationCodeFlow flow, CancellationToken ct)
    {
        var existing = await store.FindAsync(name, ct);
        if (existing is null)
        {
            return TypedResults.NotFound();
        }

        if (existing.Definition.ManagedByConfiguration || existing.Definition.Transport == ServerTransport.Stdio || string.IsNullOrWhiteSpace(request.ClientId))
        {
            return ServerEndpoints.Problem(StatusCodes.Status400BadRequest, "OAuth authorization needs an http or sse server not managed by configuration, and a clientId.");
        }

        var redirectUri = $"{context.Request.Scheme}://{context.Request.Host}{AuthorizationCodeFlow.CallbackPath}";
        try
        {
            var (url, expiresAt) = await flow.StartAsync(existing.Definition, new AuthorizationStart(request.ClientId, request.ClientSecret, request.Scope, request.AuthorizationServer), redirectUri, ct);
            return TypedResults.Ok(new AuthorizeResponse(url, redirectUri, expiresAt));
        }
        catch (OAuthException ex)
        {
            return ServerEndpoints.Problem(StatusCodes.Status502BadGateway, ex.Message);
        }
    }

    private static async Task<IResult> CallbackAsync(HttpContext context, AuthorizationCodeFlow flow, CancellationToken ct)
    {
        try
        {
            var server = await flow.CompleteAsync(context.Request.Query, ct);
            return Results.Text($"Authorized: the refresh token of '{server}' is stored and the server reconnects with it. You can close this page.");
        }
        catch (OAuthException ex)
        {
            // Plain text: nothing from the query is ever rendered as HTML.
            return Results.Text(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
