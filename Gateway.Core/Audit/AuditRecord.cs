namespace Gateway.Core.Audit;

/// <summary>One audited event. The tamper-evident chain (sequence, previous hash, hash) is added by the store.</summary>
public sealed record AuditRecord
{
    /// <summary>Gets when the event started.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the event kind, e.g. <see cref="AuditKinds.ToolCall"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>Gets the agent (or admin) that acted.</summary>
    public required string Actor { get; init; }

    /// <summary>Gets the upstream server, when one was resolved.</summary>
    public string? Server { get; init; }

    /// <summary>Gets the tool as the agent named it.</summary>
    public string? Tool { get; init; }

    /// <summary>Gets the decision: <c>allow</c>, <c>escalate</c> or <c>block</c> (policy), or <c>deny</c> (not granted, unknown, invalid).</summary>
    public required string Decision { get; init; }

    /// <summary>Gets the policy rule that decided, when one did.</summary>
    public string? Rule { get; init; }

    /// <summary>Gets the outcome, one of <see cref="AuditOutcomes"/>.</summary>
    public required string Outcome { get; init; }

    /// <summary>Gets the duration in milliseconds.</summary>
    public double DurationMs { get; init; }

    /// <summary>Gets the error message, when the call failed.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the SHA-256 of the canonical (RFC 8785) arguments; the arguments themselves are not stored.</summary>
    public string? ArgumentsSha256 { get; init; }

    /// <summary>Gets the SHA-256 of the canonical (RFC 8785) result, when the upstream answered; the result itself is not stored.</summary>
    public string? ResultSha256 { get; init; }

    /// <summary>Gets a copy of the arguments with secrets masked (see <see cref="ArgumentRedactor"/>), when there were any.</summary>
    public string? ArgumentsRedacted { get; init; }

    /// <summary>
    /// Gets what the result guard found in the call's arguments and result: a canonical JSON array of
    /// <c>{"at":"content[0].text@120","kind":"secret.aws-access-key"}</c> (kind and location, never the secret), or
    /// <see langword="null"/> when nothing was found.
    /// </summary>
    public string? Findings { get; init; }

    /// <summary>Gets the id that ties a forwarded call's <see cref="AuditKinds.ToolCallStarted"/> entry to its completion.</summary>
    public string? CallId { get; init; }
}

/// <summary>Audit event kinds.</summary>
public static class AuditKinds
{
    /// <summary>A <c>tools/call</c>.</summary>
    public const string ToolCall = "tool_call";

    /// <summary>A <c>tools/call</c> about to be forwarded; committed before the upstream sees it, completed by a <see cref="ToolCall"/> entry with the same call id.</summary>
    public const string ToolCallStarted = "tool_call.started";

    /// <summary>
    /// How a <c>tools/call</c> the upstream ran as a task ended (outcome <see cref="AuditOutcomes.Task"/>), recorded when the
    /// gateway first relays its terminal status, under the same call id. Apart from <see cref="ToolCall"/> so a call is
    /// counted once.
    /// </summary>
    public const string ToolCallTaskEnded = "tool_call.task_ended";

    /// <summary>An admin changed a server, agent, key, policy or tool class (see <c>Gateway.Core.Audit.Admin.IAdminChangeTransactions</c>).</summary>
    public const string AdminChange = "admin_change";

    /// <summary>A sign-in attempt to the console, successful or not.</summary>
    public const string ConsoleLogin = "console_login";

    /// <summary>An agent's OAuth access token refused on <c>/mcp</c> (expired, wrong audience or issuer, bad signature...).</summary>
    public const string AgentAuthentication = "agent_auth";
}

/// <summary>Audit outcomes.</summary>
public static class AuditOutcomes
{
    /// <summary>The upstream answered with a result.</summary>
    public const string Ok = "ok";

    /// <summary>The upstream answered with a tool error (<c>isError: true</c>).</summary>
    public const string ToolError = "tool_error";

    /// <summary>The gateway refused the call; nothing reached an upstream.</summary>
    public const string Denied = "denied";

    /// <summary>The upstream failed or answered with a protocol error.</summary>
    public const string Error = "error";

    /// <summary>The call exceeded the server's call timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>The agent cancelled the call.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The call was forwarded; its completion is recorded by a later entry.</summary>
    public const string Started = "started";

    /// <summary>The upstream answered but the result guard withheld the result (see <see cref="AuditRecord.Findings"/>).</summary>
    public const string Withheld = "withheld";

    /// <summary>The upstream asked the agent for input (a multi round-trip result); the call goes on when the agent retries.</summary>
    public const string InputRequired = "input_required";

    /// <summary>The upstream runs the call as a task: the agent got its handle, and a <see cref="AuditKinds.ToolCallTaskEnded"/> entry with the same call id records how it ended.</summary>
    public const string Task = "task";

    /// <summary>The gateway stopped (crash, kill) after forwarding the call and before recording its completion.</summary>
    public const string Unknown = "unknown";
}
