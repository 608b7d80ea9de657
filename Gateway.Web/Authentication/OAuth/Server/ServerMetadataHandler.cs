using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Adds to the authorization server metadata (RFC 8414) what OpenIddict does not know it offers: Client ID Metadata
/// Documents (when hosts are allowed), the registration endpoint (when registration is on) and the identity assertion
/// grant profile (when enterprise IdPs are trusted). MCP clients choose how
/// to identify themselves from these.
/// </summary>
internal sealed class ServerMetadataHandler(AgentOAuthSettings settings) : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
        .UseSingletonHandler<ServerMetadataHandler>()
        .SetOrder(int.MaxValue - 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        var server = settings.AuthorizationServer;
        if (server.ClientMetadataHosts.Count > 0)
        {
            context.Metadata["client_id_metadata_document_supported"] = true;
        }

        if (server.IdentityAssertionIssuers.Count > 0)
        {
            context.Metadata["authorization_grant_profiles_supported"] = new OpenIddict.Abstractions.OpenIddictParameter([IdentityAssertionGrant.Profile]);
        }

        if (server.DynamicClientRegistration)
        {
            context.Metadata["registration_endpoint"] = new Uri(context.Options.Issuer!, RegistrationEndpoint.Path.TrimStart('/')).AbsoluteUri;
        }

        return ValueTask.CompletedTask;
    }
}
