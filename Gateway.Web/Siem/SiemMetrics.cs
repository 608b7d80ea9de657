using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Core.Audit;

namespace Gateway.Web.Siem;

/// <summary>
/// The SIEM stream's instruments on the gateway's meter: <c>mcpgw.siem.lag</c> (entries not yet delivered, by sink;
/// reported by the instance streaming the sink only, so a sum over instances counts each once),
/// <c>mcpgw.siem.events</c> (delivered) and <c>mcpgw.siem.failures</c> (failed deliveries).
/// </summary>
internal sealed class SiemMetrics
{
    private readonly ConcurrentDictionary<string, long> _lag = new(StringComparer.Ordinal);
    private readonly Counter<long> _events;
    private readonly Counter<long> _failures;

    public SiemMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeteredAuditSink.MeterName);
        _events = meter.CreateCounter<long>("mcpgw.siem.events", "{event}", "Audit entries delivered to a SIEM sink, by sink.");
        _failures = meter.CreateCounter<long>("mcpgw.siem.failures", "{batch}", "Failed deliveries to a SIEM sink (each is retried), by sink.");
        meter.CreateObservableGauge("mcpgw.siem.lag", () => _lag.Select(l => new Measurement<long>(l.Value, new KeyValuePair<string, object?>("sink", l.Key))), "{entry}", "Audit entries a SIEM sink has not delivered yet, by sink (from the instance streaming it).");
    }

    public void Delivered(string sink, int count) => _events.Add(count, new TagList { { "sink", sink } });

    public void Failed(string sink) => _failures.Add(1, new TagList { { "sink", sink } });

    /// <summary>Sets the lag while this instance streams the sink.</summary>
    public void Lag(string sink, long entries) => _lag[sink] = entries;

    /// <summary>Stops reporting the lag: another instance streams the sink.</summary>
    public void Standby(string sink) => _lag.TryRemove(sink, out _);
}
