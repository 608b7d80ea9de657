using System.Diagnostics.Metrics;
using Gateway.Core.Audit;
using Gateway.Web.Upstreams;

namespace Gateway.Web.Hosting;

/// <summary>
/// <c>mcpgw.upstream.up</c>: 1 for each configured upstream that is connected, 0 for one that is connecting, failed or
/// disabled; read from the connections' state when a reader collects (nothing on the hot path). One series per
/// configured server: bounded by the configuration.
/// </summary>
internal sealed class UpstreamHealthGauge(UpstreamManager upstreams, IMeterFactory meters) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        meters.Create(MeteredAuditSink.MeterName).CreateObservableGauge("mcpgw.upstream.up", Observe, "{server}", "Whether the upstream is connected (1) or not (0), by server.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<int>> Observe()
    {
        foreach (var connection in upstreams.Connections)
        {
            yield return new Measurement<int>(connection.State == UpstreamState.Connected ? 1 : 0, new KeyValuePair<string, object?>("server", connection.Name));
        }
    }
}
