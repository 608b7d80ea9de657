using Gateway.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Probes for process managers and load balancers: <c>/healthz</c> (the process answers) and <c>/readyz</c> (the
/// database answers and is migrated, and the instance is not shutting down). Anonymous, and they say only Healthy or Unhealthy: no detail leaks.
/// </summary>
internal static class GatewayHealthExtensions
{
    private const string Ready = "ready";

    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseReadyCheck>("database", tags: [Ready])
            .AddCheck<NotDrainingCheck>("draining", tags: [Ready]);

        // Shutdown: not ready first, then the server stops and running calls get the drain timeout to finish.
        services.AddSingleton<Gateway.Web.Hosting.GracefulDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<Gateway.Web.Hosting.GracefulDrain>());
        services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<Gateway.Web.Hosting.GatewayOptions>>((host, gateway) =>
            host.ShutdownTimeout = gateway.Value.Shutdown.ReadinessDelay + gateway.Value.Shutdown.DrainTimeout);
        return services;
    }

    public static WebApplication MapGatewayHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().ExcludeFromDescription();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready) }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private sealed class NotDrainingCheck(Gateway.Web.Hosting.GracefulDrain drain) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(drain.Draining ? HealthCheckResult.Unhealthy("Shutting down.") : HealthCheckResult.Healthy());
    }

    private sealed class DatabaseReadyCheck(IDbContextFactory<GatewayDbContext> factory) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                return HealthCheckResult.Unhealthy("The database does not answer.");
            }

            return (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any()
                ? HealthCheckResult.Unhealthy("The database is not migrated yet.")
                : HealthCheckResult.Healthy();
        }
    }
}
