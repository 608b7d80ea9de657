using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Core.Audit;

/// <summary>
/// The gateway's metrics, read off the audit records as they pass (every finished tool call has exactly one), so the
/// numbers and the trail can never disagree: <c>mcpgw.tool_calls</c> by server, tool, decision and outcome, and
/// <c>mcpgw.tool_call.duration</c> in milliseconds. Meter <see cref="MeterName"/>: for OpenTelemetry or dotnet-counters.
/// </summary>
/// <remarks>
/// Tool names come from the agents (a name that resolves to nothing) and the upstreams (which may list any number of
/// tools), so the <c>tool</c> label is bounded: a call that resolved to no server is <c>_unknown</c>, and once
/// <see cref="MaxToolLabels"/> distinct names were seen every further new name is <c>_other</c> (until restart; the
/// audit trail keeps the exact name).
/// </remarks>
public sealed class MeteredAuditSink : IAuditSink
{
    public const string MeterName = "McpGateway";

    /// <summary>The default number of distinct <c>tool</c> label values.</summary>
    public const int DefaultMaxToolLabels = 200;

    /// <summary>The label value of a call whose tool name resolved to no server.</summary>
    public const string UnknownTool = "_unknown";

    /// <summary>The label value of every tool seen after the first <see cref="MaxToolLabels"/>.</summary>
    public const string OtherTool = "_other";

    private readonly IAuditSink _inner;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;
    private readonly ConcurrentDictionary<string, string> _toolLabels = new(StringComparer.Ordinal);

    public MeteredAuditSink(IAuditSink inner, IMeterFactory meters, int maxToolLabels = DefaultMaxToolLabels)
    {
        _inner = inner;
        MaxToolLabels = maxToolLabels;
        // The factory owns the meter (and disposes it with the host).
        var meter = meters.Create(MeterName);
        _calls = meter.CreateCounter<long>("mcpgw.tool_calls", "{call}", "Tool calls, by server, tool, decision and outcome.");
        _duration = meter.CreateHistogram<double>("mcpgw.tool_call.duration", "ms", "Time from the call's arrival to its answer.");
    }

    /// <summary>Gets how many distinct tool names get a label of their own.</summary>
    public int MaxToolLabels { get; }

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        if (record.Kind == AuditKinds.ToolCall)
        {
            var tags = new TagList { { "server", record.Server ?? "none" }, { "tool", ToolLabel(record) }, { "decision", record.Decision }, { "outcome", record.Outcome } };
            _calls.Add(1, tags);
            _duration.Record(record.DurationMs, tags);
        }

        return _inner.WriteAsync(record, cancellationToken);
    }

    /// <summary>The record's tool as a label value: its name while the names seen stay within the bound.</summary>
    private string ToolLabel(AuditRecord record)
    {
        if (record.Server is null || record.Tool is not { } tool)
        {
            return UnknownTool;
        }

        if (_toolLabels.TryGetValue(tool, out var label))
        {
            return label;
        }

        // Racing writers may admit a few names past the bound; it stays bounded by the writers in flight.
        return _toolLabels.Count < MaxToolLabels ? _toolLabels.GetOrAdd(tool, tool) : OtherTool;
    }

    public ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken) => _inner.CommitAsync(record, cancellationToken);
}
