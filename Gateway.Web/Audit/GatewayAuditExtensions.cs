using Gateway.Core.Audit;
using Gateway.Web.Audit;
using Gateway.Web.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the audit trail's host parts: the signing key, the checkpoint signer and the argument redactor.</summary>
internal static class GatewayAuditExtensions
{
    public static IServiceCollection AddGatewayAudit(this IServiceCollection services, IConfiguration configuration, string contentRoot, string sqliteConnectionString)
    {
        var audit = configuration.GetSection($"{GatewayOptions.Section}:Audit").Get<AuditOptions>() ?? new AuditOptions();
        services.AddSingleton(new AuditSigningKey(GatewayPaths.ResolveAuditKeyPath(audit.SigningKeyPath, contentRoot, sqliteConnectionString)));
        services.AddSingleton(new ArgumentRedactor(audit.RedactPatterns));
        services.AddSingleton<AuditCheckpointService>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointService>());
        return services;
    }
}
