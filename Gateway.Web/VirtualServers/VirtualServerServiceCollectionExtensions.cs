using Gateway.Core.Audit.Admin;
using Gateway.Core.VirtualServers;
using Gateway.Web.Hosting;
using Gateway.Web.VirtualServers;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the virtual servers: configuration's and the stored ones, their views, their reload and their audit.</summary>
internal static class VirtualServerServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayVirtualServers(this IServiceCollection services)
    {
        services.AddSingleton<VirtualServerDirectory>();
        services.AddSingleton<VirtualServerReloader>();
        services.AddHostedService(sp => sp.GetRequiredService<VirtualServerReloader>());
        services.Decorate<IVirtualServerStore>((inner, sp) => new AuditedVirtualServerStore(inner, sp.GetRequiredService<IAdminChangeTransactions>()));
        return services;
    }
}
