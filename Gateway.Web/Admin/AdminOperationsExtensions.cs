using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the admin operations: scoped, so each runs under the actor of its request or console circuit.</summary>
internal static class AdminOperationsExtensions
{
    public static IServiceCollection AddGatewayAdminOperations(this IServiceCollection services)
    {
        services.AddScoped<AdminActor>();
        services.AddScoped<IAdminActor>(sp => sp.GetRequiredService<AdminActor>());
        services.AddScoped<AgentOperations>();
        services.AddScoped<Gateway.Web.Admin.Servers.ServerOperations>();
        services.AddScoped<Gateway.Web.Admin.Policies.PolicyOperations>();
        services.AddScoped<Gateway.Web.Admin.Limits.ToolLimitOperations>();
        services.AddScoped<Gateway.Web.Admin.VirtualServers.VirtualServerOperations>();
        services.AddScoped<Gateway.Web.Admin.Tools.ToolPinOperations>();
        services.AddScoped<Gateway.Web.Admin.Tools.ToolClassOperations>();
        services.AddScoped<Gateway.Web.Admin.Approvals.ApprovalOperations>();
        services.AddScoped<Gateway.Web.Admin.Users.ConsoleUserOperations>();
        services.AddScoped<Gateway.Web.Admin.OAuthClients.OAuthClientOperations>();
        services.AddScoped<Gateway.Web.Admin.Users.UserRevocationOperations>();
        return services;
    }
}
