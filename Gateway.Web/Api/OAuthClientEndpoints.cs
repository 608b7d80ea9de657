using Gateway.Web.Admin.OAuthClients;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/oauth-clients</c>: the clients of the gateway's own authorization server (read only).</summary>
internal static class OAuthClientEndpoints
{
    public static void MapOAuthClientEndpoints(this RouteGroupBuilder api) =>
        api.MapGet("/oauth-clients", ListAsync).WithTags("OAuth clients").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy)
            .WithSummary("Lists the authorization server's clients (metadata-document and registered), last seen first, and how clients may become known.");

    private static async Task<Results<Ok<OAuthClientList>, AdminRefusal>> ListAsync(OAuthClientOperations clients, CancellationToken ct) =>
        (await clients.ListAsync(ct)).ToHttp(TypedResults.Ok);
}
