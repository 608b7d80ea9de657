namespace Gateway.Core.Approvals;

/// <summary>The life of an approval.</summary>
public enum ApprovalStatus
{
    /// <summary>Waiting for a human.</summary>
    Pending,

    /// <summary>Approved and not yet used: the next identical call (or the waiting one) runs, once.</summary>
    Approved,

    /// <summary>Denied.</summary>
    Denied,

    /// <summary>Nobody decided in time.</summary>
    Expired,

    /// <summary>Approved and used: the call ran. An approval runs a call once, never twice.</summary>
    Executed,
}

/// <summary>
/// A held call: bound to the agent (and the user it acts for), the tool, the tool's definition and the exact arguments,
/// so the decision is about precisely this call and cannot be reused for another.
/// </summary>
public sealed record Approval
{
    /// <summary>Gets the id shown to approvers and agents (<c>apr_…</c>).</summary>
    public required string Id { get; init; }

    public required long AgentId { get; init; }

    public required string Agent { get; init; }

    public required string Server { get; init; }

    /// <summary>Gets the tool's original name.</summary>
    public required string Tool { get; init; }

    /// <summary>Gets the SHA-256 of the tool's definition when the call was held.</summary>
    public required string ToolDefinitionSha256 { get; init; }

    /// <summary>Gets the exact arguments, canonical JSON (RFC 8785).</summary>
    public required string ArgumentsJson { get; init; }

    public required string ArgumentsSha256 { get; init; }

    /// <summary>Gets the rule that escalated the call, if any (else the default for the class).</summary>
    public string? Rule { get; init; }

    public required string Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public ApprovalStatus Status { get; init; }

    public string? DecidedBy { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }

    public string? DecisionReason { get; init; }
}

/// <summary>What became of a decision attempt.</summary>
public enum DecisionResult
{
    /// <summary>This decision was recorded.</summary>
    Decided,

    /// <summary>Someone else decided first (or it expired): nothing changed.</summary>
    AlreadyDecided,

    /// <summary>No such approval.</summary>
    NotFound,

    /// <summary>The approver owns the calling agent, or made the call from the console, and self-approval is forbidden: nothing changed.</summary>
    SelfApprovalForbidden,
}
