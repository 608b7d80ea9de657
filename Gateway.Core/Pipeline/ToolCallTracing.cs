using System.Diagnostics;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Policy;

namespace Gateway.Core.Pipeline;

/// <summary>
/// The gateway's spans for a tool call: one <c>execute_tool {tool}</c> span per call, with a child span for the
/// approval wait of a held call. The commit of the audit "started" entry and the upstream's time are attributes and an
/// event of the call's span, not spans: a span each cost more than the rest of the tracing on every call. Nor is the
/// request to the upstream: the MCP client (the SDK's, and the gateway's direct path) puts its attributes on this span
/// (<see cref="CurrentToolCall"/>) and propagates it, so the upstream's server span is its child. Its parent is whatever is current
/// when the call enters the pipeline: the MCP SDK's server span for the request (whose parent is the agent's
/// <c>_meta.traceparent</c>).
/// </summary>
/// <remarks>
/// Names follow the OpenTelemetry GenAI semantic conventions (open-telemetry/semantic-conventions-genai,
/// docs/gen-ai/gen-ai-spans.md "Execute tool span": span name <c>execute_tool {gen_ai.tool.name}</c>,
/// <c>gen_ai.operation.name</c>, <c>gen_ai.tool.name</c>, <c>gen_ai.agent.name</c>; <c>error.type</c> from the general
/// conventions); the per-request MCP span (<c>{mcp.method.name} {target}</c>, <c>mcp.session.id</c>, ...) is the SDK's,
/// per docs/gen-ai/mcp.md. What the conventions do not name (server, access class, decision, rule, outcome, waits) is
/// under the gateway's own <c>mcpgw.</c> prefix. Cost when nobody listens: one <see cref="ActivitySource.HasListeners"/>
/// check per span, no allocation (the span name is built only for a listener, and a sampler that drops the call
/// makes every <c>Start</c> return null).
/// </remarks>
public static class ToolCallTracing
{
    /// <summary>The name of the gateway's <see cref="ActivitySource"/> (the same name as its meter).</summary>
    public const string SourceName = MeteredAuditSink.MeterName;

    /// <summary>The child span for the time a held call waits for a human.</summary>
    public const string ApprovalWaitSpan = "approval wait";

    /// <summary>
    /// The event on the call's span when its audit "started" entry is durable (write-before-forward: the request to the
    /// upstream starts after it).
    /// </summary>
    public const string AuditCommittedEvent = "audit started committed";

    private const string ExecuteToolPrefix = "execute_tool ";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The gateway's attribute names (those the conventions do not define).</summary>
    public static class Tags
    {
        public const string Server = "mcpgw.server";
        public const string OriginalTool = "mcpgw.tool.original_name";
        public const string AccessClass = "mcpgw.access_class";
        public const string Decision = "mcpgw.decision";
        public const string Rule = "mcpgw.rule";
        public const string Outcome = "mcpgw.outcome";
        public const string CallId = "mcpgw.call_id";
        public const string ApprovalWait = "mcpgw.approval.wait_ms";
        public const string Approved = "mcpgw.approval.approved";
        public const string UpstreamTime = "mcpgw.upstream.duration_ms";
        public const string AuditCommitTime = "mcpgw.audit.commit_ms";
    }

    /// <summary>Starts the call's span, or returns null when nobody listens or the sampler drops it.</summary>
    public static Activity? StartToolCall(AgentIdentity agent, string tool)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(ExecuteToolPrefix + tool, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", tool);
            activity.SetTag("gen_ai.agent.name", agent.Name);
            if (agent.User is { } user)
            {
                // The user an OAuth-authenticated agent acts for (the general conventions' user.id); keyed agents have none.
                activity.SetTag("user.id", user);
            }
        }

        return activity;
    }

    /// <summary>
    /// The current span when it is a tool call's (the gateway's execute_tool span, or another GenAI instrumentation's):
    /// the MCP client instrumentation puts its attributes on it instead of starting a span of its own, as the MCP
    /// semantic conventions ask and the MCP SDK's client does.
    /// </summary>
    public static Activity? CurrentToolCall() =>
        Activity.Current is { } current && current.OperationName.StartsWith(ExecuteToolPrefix, StringComparison.Ordinal) ? current : null;

    /// <summary>Starts a child span of the current one (<paramref name="name"/> is one of the constants above).</summary>
    public static Activity? StartChild(string name) => Source.HasListeners() ? Source.StartActivity(name, ActivityKind.Internal) : null;

    /// <summary>Records the tool the name resolved to.</summary>
    public static void Resolved(Activity? activity, string server, string originalName, AccessClass accessClass)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.Server, server);
            activity.SetTag(Tags.OriginalTool, originalName);
            activity.SetTag(Tags.AccessClass, accessClass.Name());
        }
    }

    /// <summary>Records that the call's "started" entry is durable, and how long its commit took since <paramref name="since"/>.</summary>
    public static void Committed(Activity? activity, long since)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.AuditCommitTime, Stopwatch.GetElapsedTime(since).TotalMilliseconds);
            activity.AddEvent(new ActivityEvent(AuditCommittedEvent));
        }
    }

    /// <summary>Records a duration (in milliseconds, like the audit trail's) on the call's span.</summary>
    public static void Elapsed(Activity? activity, string tag, TimeSpan elapsed)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(tag, elapsed.TotalMilliseconds);
        }
    }

    /// <summary>
    /// Records what the audit trail records for the call (decision, rule, outcome): the span and the trail agree because
    /// they are written from the same record. Outcomes other than ok, tool_error, input_required and task set
    /// <c>error.type</c> to the outcome, and an upstream error or timeout sets the status to error.
    /// </summary>
    public static void Finish(Activity? activity, AuditRecord record)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(Tags.Decision, record.Decision);
        activity.SetTag(Tags.Rule, record.Rule);
        activity.SetTag(Tags.Outcome, record.Outcome);
        activity.SetTag(Tags.CallId, record.CallId);
        if (record.Outcome is not (AuditOutcomes.Ok or AuditOutcomes.ToolError or AuditOutcomes.InputRequired or AuditOutcomes.Task))
        {
            activity.SetTag("error.type", record.Outcome);
        }

        if (record.Outcome is AuditOutcomes.Error or AuditOutcomes.Timeout)
        {
            activity.SetStatus(ActivityStatusCode.Error, record.Error);
        }
    }
}
