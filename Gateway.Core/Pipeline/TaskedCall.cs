using Gateway.Core.Audit;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Pipeline;

/// <summary>
/// A tool call the upstream runs as a task: the facts of its audited call that the entry of the task's final outcome
/// repeats, so the two read as one call (same call id, agent, server, tool and decision).
/// </summary>
/// <param name="CallId">The call id of the call (its round, for a multi round-trip call) that created the task.</param>
/// <param name="Actor">The agent's name.</param>
/// <param name="Server">The upstream server.</param>
/// <param name="Tool">The tool as the agent named it.</param>
/// <param name="Decision">The policy decision.</param>
/// <param name="Rule">The rule that decided, if any.</param>
/// <param name="Started">When the call arrived.</param>
/// <param name="Secrets">The secrets mode a policy rule set for the call's result, guarding the task's result too; <see langword="null"/> for the server's.</param>
/// <param name="SecretsRule">The rule that set <paramref name="Secrets"/>.</param>
public sealed record TaskedCall(string CallId, string Actor, string Server, string Tool, string Decision, string? Rule, DateTimeOffset Started, SecretMode? Secrets = null, string? SecretsRule = null)
{
    /// <summary>
    /// The audit entry of the task's end, as the gateway first saw it: <paramref name="outcome"/> is one of
    /// <see cref="AuditOutcomes"/> (ok, tool_error, error, cancelled, withheld), its duration runs from the call's arrival.
    /// </summary>
    public AuditRecord Ended(string outcome, DateTimeOffset seenAt, string? error = null, string? resultSha256 = null, string? findings = null) => new()
    {
        Timestamp = seenAt,
        Kind = AuditKinds.ToolCallTaskEnded,
        Actor = Actor,
        Server = Server,
        Tool = Tool,
        Decision = Decision,
        Rule = Rule,
        Outcome = outcome,
        DurationMs = Math.Max(0, (seenAt - Started).TotalMilliseconds),
        Error = AuditText.Cut(error),
        ResultSha256 = resultSha256,
        Findings = findings,
        CallId = CallId,
    };
}

/// <summary>What a call the upstream turned into a task hands back: the protocol's task result (opaque to Core) and the call.</summary>
/// <param name="Payload">The upstream's task-creation result.</param>
/// <param name="Call">The call, for the audit entry of the task's end.</param>
public sealed record CreatedTask(object Payload, TaskedCall Call);
