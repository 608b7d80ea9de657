namespace Gateway.Data.Entities;

/// <summary>Row of <c>Approvals</c>.</summary>
public sealed class ApprovalEntity
{
    public required string Id { get; set; }

    public long AgentId { get; set; }

    public required string Agent { get; set; }

    public required string Server { get; set; }

    public required string Tool { get; set; }

    public required string ToolDefinitionSha256 { get; set; }

    public required string ArgumentsJson { get; set; }

    public required string ArgumentsSha256 { get; set; }

    public string? Rule { get; set; }

    public required string Reason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public required string Status { get; set; }

    public string? DecidedBy { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public string? DecisionReason { get; set; }
}
