using Gateway.Core.Agents;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Policy;
using Gateway.Core.Servers;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The audit of admin changes: the stores the operations layer writes through record each change as an
/// <c>admin_change</c> entry committed with it (<see cref="IAdminChangeTransactions"/>). Virtual servers are decorated
/// where they are registered (<c>AddGatewayVirtualServers</c>).
/// </summary>
internal static class AdminChangeAuditExtensions
{
    /// <summary>Decorates the stores registered by <c>AddGatewayData</c>; call it after that.</summary>
    public static IServiceCollection AddGatewayAdminChangeAudit(this IServiceCollection services)
    {
        services.Decorate<IServerStore>((inner, sp) => new AuditedServerStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        services.Decorate<IAgentStore>((inner, sp) => new AuditedAgentStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        services.Decorate<IPolicyStore>((inner, sp) => new AuditedPolicyStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        services.Decorate<Gateway.Core.Limits.IToolLimitRuleStore>((inner, sp) => new AuditedToolLimitRuleStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        services.Decorate<Gateway.Core.Identity.IConsoleUserStore>((inner, sp) => new AuditedConsoleUserStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        return services;
    }
}
