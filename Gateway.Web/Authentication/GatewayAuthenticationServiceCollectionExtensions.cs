using Gateway.Core.Identity;
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
            // The admin API's and the console's policies authenticate with the default (by-path) scheme: the admin
            // key, which is role Admin, or a console user with their roles.
            .AddPolicy(GatewayAuthenticationDefaults.AdminPolicy, p => p.RequireRole(ConsoleRoles.Admin))
            .AddPolicy(GatewayAuthenticationDefaults.ReadPolicy, p => p.RequireRole(ConsoleRoles.Admin, ConsoleRoles.Auditor))
            .AddPolicy(GatewayAuthenticationDefaults.DecidePolicy, p => p.RequireRole(ConsoleRoles.Admin, ConsoleRoles.Approver))
            .AddPolicy(GatewayAuthenticationDefaults.ConsoleUserPolicy, p => p.RequireRole(ConsoleRoles.All));
        return services;
    }
}
