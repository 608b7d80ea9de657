using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Witnesses;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Gateway.Web.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the audit trail's host parts: the signing key, the checkpoint signer, the argument redactor, and the audit
/// of admin changes (the stores wrapped so every change is recorded, whoever makes it: API, console or a future caller).
/// </summary>
internal static class GatewayAuditExtensions
{
    /// <summary>Reads <c>Gateway:Audit</c>'s durability settings; an invalid value stops the gateway with every error listed.</summary>
    public static AuditWriteOptions WriteOptions(IConfiguration configuration)
    {
        var section = $"{GatewayOptions.Section}:Audit";
        AuditWriteOptions options;
        try
        {
            options = configuration.GetSection(section).Get<AuditWriteOptions>() ?? new AuditWriteOptions();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"Invalid configuration: {section}: {ex.Message} (Durability is 'power' or 'process'; windows are durations such as 00:00:00.010).", ex);
        }

        var errors = options.Validate(section).ToList();
        return errors.Count == 0 ? options : throw new InvalidOperationException("Invalid configuration: " + string.Join(" ", errors));
    }

    public static IServiceCollection AddGatewayAudit(this IServiceCollection services, IConfiguration configuration, string contentRoot, Gateway.Data.GatewayDatabase database)
    {
        var audit = configuration.GetSection($"{GatewayOptions.Section}:Audit").Get<AuditOptions>() ?? new AuditOptions();
        services.AddSingleton(new AuditSigningKey(GatewayPaths.ResolveAuditKeyPath(audit.SigningKeyPath, contentRoot, database)));
        // Token-shaped values are masked with the result guard's detector (well-known formats and Gateway:Guardrails:SecretPatterns).
        services.AddSingleton(sp => new ArgumentRedactor(audit.RedactPatterns, sp.GetService<Gateway.Core.Guardrails.ResultGuard>()?.Arguments));
        var errors = audit.Witnesses.SelectMany((w, i) => w.Validate($"{GatewayOptions.Section}:Audit:Witnesses:{i}")).ToList();
        if (audit.WitnessAttempts is < 1 or > 100 || audit.WitnessTimeout <= TimeSpan.Zero || audit.WitnessTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{GatewayOptions.Section}:Audit:WitnessAttempts must be between 1 and 100, and WitnessTimeout between 0 (exclusive) and 5 minutes.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid configuration: " + string.Join(" ", errors));
        }

        // Registered before the signer, so it stops after it: the checkpoint signed at shutdown still reaches the witnesses.
        services.AddSingleton<AuditReadGate>();
        services.AddSingleton(sp => new AuditWitnessPublisher(
            [.. audit.Witnesses.Select(w => AuditWitnesses.Create(w, audit.WitnessTimeout))],
            audit.WitnessAttempts,
            sp.GetService<IAuditWitnessStateStore>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<AuditWitnessPublisher>>()));
        services.AddHostedService(sp => sp.GetRequiredService<AuditWitnessPublisher>());
        services.AddSingleton<AuditCheckpointNotes>();
        services.AddSingleton<AuditCheckpointService>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointService>());
        services.AddGatewayAdminChangeAudit();
        services.AddScoped<CircuitHandler, AuditActorCircuitHandler>();
        return services;
    }
}
