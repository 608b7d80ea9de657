using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Before OpenIddict looks the client up, an authorization request whose client id is a URL has its metadata document
/// fetched (<see cref="ClientMetadataFetcher"/>, kept for its lifetime by <see cref="ClientMetadataDocuments"/>) and the
/// client created or updated from it, so a changed document (new redirect URIs) takes effect once the kept one is stale. A document that cannot be used refuses the request before
/// any redirect (its redirect URIs are not trusted) with <c>invalid_request</c>, the authorization endpoint's code for
/// an invalid client id (RFC 6749 §4.1.2.1), and the reason.
/// </summary>
internal sealed class ClientMetadataHandler(ClientMetadataDocuments documents, OAuthClients clients) :
    IOpenIddictServerHandler<ExtractAuthorizationRequestContext>,
    IOpenIddictServerHandler<ExtractTokenRequestContext>
{
    /// <summary>After the request is read, before it is validated.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractAuthorizationRequestContext>()
        .UseScopedHandler<ClientMetadataHandler>()
        .SetOrder(int.MaxValue - 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    /// <summary>
    /// The same before an identity assertion grant: a client identified by its metadata document may redeem one without
    /// ever having sent a user through the authorization endpoint.
    /// </summary>
    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractTokenRequestContext>()
        .UseScopedHandler<ClientMetadataHandler>()
        .SetOrder(int.MaxValue - 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ExtractAuthorizationRequestContext context) => FetchAsync(context, context.Request?.ClientId, Errors.InvalidRequest);

    public ValueTask HandleAsync(ExtractTokenRequestContext context) =>
        context.Request?.GrantType == IdentityAssertionGrant.GrantType ? FetchAsync(context, context.Request.ClientId, Errors.InvalidClient) : ValueTask.CompletedTask;

    private async ValueTask FetchAsync(BaseValidatingContext context, string? clientId, string error)
    {
        if (clientId is null || !ClientMetadataFetcher.IsMetadataUrl(clientId))
        {
            return;
        }

        var address = context.Transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress;
        var fetch = await documents.GetAsync(clientId, address, context.CancellationToken);
        if (fetch.Metadata is not null && !await clients.ExistsAsync(clientId, context.CancellationToken))
        {
            // Kept here but gone from the database (an admin deleted it, another instance's database was reset):
            // fetched and stored again, once.
            documents.Forget(clientId);
            fetch = await documents.GetAsync(clientId, address, context.CancellationToken);
        }

        if (fetch.Metadata is null)
        {
            context.Reject(fetch.RetryAfterSeconds is null ? error : Errors.TemporarilyUnavailable, fetch.Refusal);
        }
    }
}
