using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Authentication;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers agent and admin authentication.</summary>
internal static class GatewayAuthenticationServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AgentKeyAuthenticationHandler>(GatewayAuthenticationDefaults.AgentScheme, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(GatewayAuthenticationDefaults.AdminScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(GatewayAuthenticationDefaults.AgentPolicy, p => p
                .AddAuthenticationSchemes(GatewayAuthenticationDefaults.AgentScheme)
                .RequireAuthenticatedUser())
            .AddPolicy(GatewayAuthenticationDefaults.AdminPolicy, p => p
                .AddAuthenticationSchemes(GatewayAuthenticationDefaults.AdminScheme)
                .RequireRole("Admin"));
        return services;
    }
}
