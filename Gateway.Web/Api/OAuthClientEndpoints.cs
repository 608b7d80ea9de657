using Gateway.Web.Admin.OAuthClients;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/oauth-clients</c>: the clients of the gateway's own authorization server, and their users' consents.</summary>
internal static class OAuthClientEndpoints
{
    public static void MapOAuthClientEndpoints(this RouteGroupBuilder api)
    {
        var clients = api.MapGroup("/oauth-clients").WithTags("OAuth clients");
        clients.MapGet("", ListAsync).RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy)
            .WithSummary("Lists the authorization server's clients (metadata-document and registered), last seen first, with how many users allowed each, and how clients may become known.");

        // The client id goes in the query: a metadata document's client id is a URL.
        clients.MapDelete("/consents", WithdrawAsync).RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy)
            .WithSummary("Withdraws every consent users gave a client (?clientId=) and revokes the tokens issued under them; its users are asked again.");
    }

    private static async Task<Results<Ok<ConsentWithdrawal>, AdminRefusal>> WithdrawAsync(string? clientId, OAuthClientOperations clients, CancellationToken ct) =>
        (await clients.WithdrawConsentsAsync(clientId, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<OAuthClientList>, AdminRefusal>> ListAsync(OAuthClientOperations clients, CancellationToken ct) =>
        (await clients.ListAsync(ct)).ToHttp(TypedResults.Ok);
}
