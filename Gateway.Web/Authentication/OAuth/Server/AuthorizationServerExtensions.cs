using Gateway.Data;
using Gateway.Web.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The gateway's own authorization server: OpenIddict's server with its stores in the gateway's database. Codes,
/// refresh tokens and clients are rows, so a code is redeemed once across instances, a replayed code revokes what it
/// gave, and refresh tokens roll (each use gives a new one and retires the old).
/// </summary>
internal static class AuthorizationServerExtensions
{
    /// <summary>The token endpoint (OpenIddict's).</summary>
    public const string TokenPath = "/oauth/token";

    public static void AddAuthorizationServer(this IServiceCollection services, AgentOAuthSettings settings)
    {
        var server = settings.AuthorizationServer;

        // OpenIddict's stores take the context per request scope that AddGatewayData registers (pooled, or joining the
        // admin change its scope is made in).
        services.AddSingleton(sp => new AuthorizationServerKey(KeyPath(server, sp)));
        services.AddSingleton<IConfigurationManager<OpenIdConnectConfiguration>, OwnSigningKeys>();
        services.AddSingleton<ClientMetadataFetcher>();
        services.AddSingleton<ClientMetadataDocuments>();
        services.AddSingleton<RegistrationThrottle>();
        services.AddSingleton<IdentityAssertionValidator>();
        services.AddScoped<OAuthClients>();
        services.AddScoped<OAuthConsents>();
        services.AddSingleton<AuthorizationServerPruning>();
        services.AddHostedService(sp => sp.GetRequiredService<AuthorizationServerPruning>());

        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<GatewayDbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris(AuthorizeEndpoint.Path.TrimStart('/'))
                    .SetTokenEndpointUris(TokenPath.TrimStart('/'))
                    .SetJsonWebKeySetEndpointUris("oauth/jwks")

                    // RFC 8414's address first (MCP clients ask it), OpenID Connect's for clients that only know that one.
                    .SetConfigurationEndpointUris(".well-known/oauth-authorization-server", ".well-known/openid-configuration");
                o.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes([.. settings.Scopes, Scopes.OfflineAccess]);
                o.SetAccessTokenLifetime(server.AccessTokenLifetime).SetRefreshTokenLifetime(server.RefreshTokenLifetime);

                // Access tokens are signed JWTs the resource side validates like any issuer's; encrypted ones it refuses.
                o.DisableAccessTokenEncryption();

                // Clients are created with the permissions they need; scopes and the resource are checked against the
                // registered ones instead of per-client lists (every client may ask for every scope of this gateway).
                o.IgnoreScopePermissions().IgnoreResourcePermissions();
                o.AddEventHandler(ClientMetadataHandler.Descriptor);
                o.AddEventHandler(ServerMetadataHandler.Descriptor);
                o.AddEventHandler(RefreshUserCheck.Descriptor);
                foreach (var descriptor in ServerRefusalAudit.Descriptors)
                {
                    o.AddEventHandler(descriptor);
                }

                // Enterprise-Managed Authorization: identity assertions of the IdPs the operator trusts, redeemed by
                // any client the gateway knows (clients are created with the code and refresh grants only).
                if (server.IdentityAssertionIssuers.Count > 0)
                {
                    o.AllowCustomFlow(IdentityAssertionGrant.GrantType).IgnoreGrantTypePermissions();
                    o.AddEventHandler(IdentityAssertionGrant.Descriptor);
                    o.AddEventHandler(ClientMetadataHandler.TokenDescriptor);
                }

                // The gateway often sits behind a TLS proxy and sees plain http; its issuer is fixed from the resource
                // URL (never a request's Host), and README asks for an https resource URL in production.
                o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });

        // Known only once the gateway listens (the resource URL may come from its address): OpenIddict reads its
        // options at its first request.
        services.AddOptions<OpenIddictServerOptions>().Configure<AuthorizationServerKey, ProtectedResource, OAuthIssuer, TimeProvider>((o, key, resource, issuer, time) =>
        {
            o.Issuer = new Uri(issuer.Url);
            o.Resources.Add(new Uri(resource.Resource));
            o.SigningCredentials.Add(new SigningCredentials(key.Signing, SecurityAlgorithms.EcdsaSha256));
            o.EncryptionCredentials.Add(new EncryptingCredentials(key.Encryption, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));

            // S256 only (the MCP authorization spec): a request without a challenge, or with "plain", is refused.
            o.CodeChallengeMethods.Clear();
            o.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
            o.TimeProvider = time;
        });
    }

    public static void MapAuthorizationServer(this IEndpointRouteBuilder endpoints)
    {
        AuthorizeEndpoint.Map(endpoints);
        RegistrationEndpoint.Map(endpoints);
    }

    private static string KeyPath(AuthorizationServerSettings server, IServiceProvider services)
    {
        var contentRoot = services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        return !string.IsNullOrWhiteSpace(server.SigningKeyPath)
            ? Path.GetFullPath(server.SigningKeyPath, contentRoot)
            : Path.Combine(GatewayPaths.DataFolder(services.GetRequiredService<GatewayDatabase>(), contentRoot), "oauth-server-key.pem");
    }
}
