using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Before OpenIddict looks the client up, an authorization request whose client id is a URL has its metadata document
/// fetched (<see cref="ClientMetadataFetcher"/>) and the client created or updated from it, so a changed document
/// (new redirect URIs) takes effect at the next sign-in. A document that cannot be used refuses the request before
/// any redirect (its redirect URIs are not trusted) with <c>invalid_request</c>, the authorization endpoint's code for
/// an invalid client id (RFC 6749 §4.1.2.1), and the reason.
/// </summary>
internal sealed class ClientMetadataHandler(ClientMetadataFetcher fetcher, OAuthClients clients) : IOpenIddictServerHandler<ExtractAuthorizationRequestContext>
{
    /// <summary>After the request is read, before it is validated.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractAuthorizationRequestContext>()
        .UseScopedHandler<ClientMetadataHandler>()
        .SetOrder(int.MaxValue - 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ExtractAuthorizationRequestContext context)
    {
        if (context.Request?.ClientId is not { } clientId || !ClientMetadataFetcher.IsMetadataUrl(clientId))
        {
            return;
        }

        var (metadata, refusal) = await fetcher.FetchAsync(clientId, context.CancellationToken);
        if (metadata is null)
        {
            context.Reject(Errors.InvalidRequest, refusal);
            return;
        }

        await clients.UpsertMetadataClientAsync(metadata, context.CancellationToken);
    }
}
