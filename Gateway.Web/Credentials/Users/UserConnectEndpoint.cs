using Gateway.Core.Servers;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Console;
using Gateway.Web.Credentials.OAuth;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Identity;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Authentication;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// <c>GET /oauth/connect/{server}</c>: a user connects their own account at a per-user server. They must be signed in
/// to the console (the account is bound to the console user, never to whoever holds the link), then go through the
/// server's authorization code flow; the callback stores the refresh token as theirs.
/// </summary>
internal static class UserConnectEndpoint
{
    public static void MapUserConnectEndpoint(this WebApplication app) =>
        app.MapGet(UserCredentials.ConnectPath + "/{server}", ConnectAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> ConnectAsync(
        string server, HttpContext context, UpstreamManager upstreams, AuthorizationCodeFlow flow, AgentOAuthSettings oauth, UserRevocations revocations, CancellationToken ct)
    {
        var console = await context.AuthenticateAsync(ConsoleDefaults.Scheme);
        if (console.Principal?.Identity?.IsAuthenticated != true)
        {
            return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(context.Request.Path));
        }

        if (!upstreams.TryGet(server, out var connection) || connection.Definition.CredentialMode != CredentialMode.PerUser)
        {
            return Results.Text($"No server '{server}' takes users' own accounts.", statusCode: StatusCodes.Status404NotFound);
        }

        var user = AgentsUser.Of(console.Principal, oauth);
        if (revocations.IsRevoked(user))
        {
            return Results.Text($"User '{user}' is revoked.", statusCode: StatusCodes.Status403Forbidden);
        }

        try
        {
            var redirectUri = $"{context.Request.Scheme}://{context.Request.Host}{AuthorizationCodeFlow.CallbackPath}";
            var (url, _) = await flow.StartForUserAsync(connection.Definition, user, redirectUri, ct);
            return Results.Redirect(url.ToString());
        }
        catch (OAuthException ex)
        {
            return Results.Text(ex.Message, statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
