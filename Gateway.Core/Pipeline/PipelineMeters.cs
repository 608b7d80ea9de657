using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Core.Audit;
using Gateway.Core.Limits;

namespace Gateway.Core.Pipeline;

/// <summary>
/// What the pipeline measures that the audit records do not carry (<see cref="MeteredAuditSink"/> has the rest), on the
/// <c>McpGateway</c> meter: limit refusals by limit, held calls waiting for a decision, the approval wait and the
/// upstream's time. Label values are the gateway's own (limit names, configured server names): bounded.
/// </summary>
public sealed class PipelineMeters
{
    private readonly Counter<long> _limitRefusals;
    private readonly UpDownCounter<long> _pendingApprovals;
    private readonly Histogram<double> _approvalWait;
    private readonly Histogram<double> _upstream;

    public PipelineMeters(IMeterFactory meters)
    {
        var meter = meters.Create(MeteredAuditSink.MeterName);
        _limitRefusals = meter.CreateCounter<long>("mcpgw.limit.refusals", "{call}", "Tool calls refused by a rate, concurrency or quota limit, by limit.");
        _pendingApprovals = meter.CreateUpDownCounter<long>("mcpgw.approvals.pending", "{call}", "Held calls waiting on this instance for an approver's decision.");
        _approvalWait = meter.CreateHistogram<double>("mcpgw.approval.wait.duration", "ms", "Time a held call waited for its decision, by whether it was approved.");
        _upstream = meter.CreateHistogram<double>("mcpgw.upstream.duration", "ms", "Time the upstream took to answer a forwarded call, by server.");
    }

    public void LimitRefused(LimitKind limit) => _limitRefusals.Add(1, new KeyValuePair<string, object?>("limit", limit switch
    {
        LimitKind.RequestsPerMinute => "requests_per_minute",
        LimitKind.Concurrency => "max_concurrent",
        LimitKind.DailyQuota => "daily_quota",
        _ => "other",
    }));

    public void ApprovalWaiting(int delta) => _pendingApprovals.Add(delta);

    public void ApprovalDecided(TimeSpan waited, bool approved) => _approvalWait.Record(waited.TotalMilliseconds, new KeyValuePair<string, object?>("approved", approved ? "true" : "false"));

    public void UpstreamAnswered(string server, long startedTicks) => _upstream.Record(Stopwatch.GetElapsedTime(startedTicks).TotalMilliseconds, new KeyValuePair<string, object?>("server", server));
}
