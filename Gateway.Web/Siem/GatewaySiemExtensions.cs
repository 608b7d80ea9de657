using Gateway.Web.Siem;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SIEM stream (<c>Gateway:Siem</c>); nothing runs when no sink is configured.</summary>
internal static class GatewaySiemExtensions
{
    public static IServiceCollection AddGatewaySiem(this IServiceCollection services, IConfiguration configuration)
    {
        var (options, sinks) = SiemConfiguration.Read(configuration);
        services.AddSingleton(options);
        services.AddSingleton(new SiemSinks(sinks));
        services.AddSingleton<SiemMetrics>();
        if (sinks.Count > 0)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<SiemStreamService>(sp, sinks));
        }

        return services;
    }
}
