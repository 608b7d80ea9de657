using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Core.Audit;

/// <summary>
/// The gateway's metrics, read off the audit records as they pass (every finished tool call has exactly one), so the
/// numbers and the trail can never disagree: <c>mcpgw.tool_calls</c> by server, decision and outcome, and
/// <c>mcpgw.tool_call.duration</c> in milliseconds. Meter <see cref="MeterName"/>: for OpenTelemetry or dotnet-counters.
/// </summary>
public sealed class MeteredAuditSink : IAuditSink
{
    public const string MeterName = "McpGateway";

    private readonly IAuditSink _inner;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;

    public MeteredAuditSink(IAuditSink inner, IMeterFactory meters)
    {
        _inner = inner;
        // The factory owns the meter (and disposes it with the host).
        var meter = meters.Create(MeterName);
        _calls = meter.CreateCounter<long>("mcpgw.tool_calls", "{call}", "Tool calls, by server, decision and outcome.");
        _duration = meter.CreateHistogram<double>("mcpgw.tool_call.duration", "ms", "Time from the call's arrival to its answer.");
    }

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        if (record.Kind == AuditKinds.ToolCall)
        {
            var tags = new TagList { { "server", record.Server ?? "none" }, { "decision", record.Decision }, { "outcome", record.Outcome } };
            _calls.Add(1, tags);
            _duration.Record(record.DurationMs, tags);
        }

        return _inner.WriteAsync(record, cancellationToken);
    }

    public ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken) => _inner.CommitAsync(record, cancellationToken);
}
