using Gateway.Core.Provisioning;

namespace Gateway.Web.Provisioning;

/// <summary>
/// Applies the configuration's servers and agents to the database at startup, before the upstreams connect.
/// Invalid configuration stops the gateway with every error listed: starting half-provisioned would be worse. Each
/// change is audited by the store, in its transaction, as made by <see cref="Gateway.Core.Audit.Admin.AuditActor.Configuration"/>.
/// </summary>
internal sealed partial class ProvisioningService(IConfiguration configuration, IProvisioningStore store, ILogger<ProvisioningService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        var spec = ProvisioningSpecReader.Read(configuration, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The gateway configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)));
        }

        var report = await store.ApplyAsync(spec, cancellationToken);
        LogProvisioned(spec.Servers.Count, spec.Agents.Count, report.ServersAdded, report.ServersUpdated, report.ServersRemoved, report.AgentsAdded, report.AgentsUpdated, report.AgentsRemoved, report.AuditEntries);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Provisioned {Servers} servers and {Agents} agents from configuration (servers +{SA} ~{SU} -{SR}, agents +{AA} ~{AU} -{AR}; {Entries} audit entries).")]
    private partial void LogProvisioned(int servers, int agents, int sa, int su, int sr, int aa, int au, int ar, int entries);
}
