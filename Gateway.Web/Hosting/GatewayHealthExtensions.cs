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
        // One instance, so the "migrated" it has seen once is remembered (AddCheck resolves a registered check).
        services.AddSingleton<DatabaseReadyCheck>();
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

    /// <summary>
    /// Ready when the database answers and is migrated. Migrations only move forward, so once this instance has seen
    /// them all applied it stops asking: a balancer probes every half second, and under load the probe must stay one
    /// pooled connection's round trip, or a busy instance times its checks out and leaves the rotation.
    /// </summary>
    private sealed class DatabaseReadyCheck(IDbContextFactory<GatewayDbContext> factory) : IHealthCheck
    {
        private volatile bool _migrated;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                return HealthCheckResult.Unhealthy("The database does not answer.");
            }

            if (!_migrated && (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
            {
                return HealthCheckResult.Unhealthy("The database is not migrated yet.");
            }

            _migrated = true;
            return HealthCheckResult.Healthy();
        }
    }
}
