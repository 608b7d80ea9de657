namespace Gateway.Data.Entities;

/// <summary>Row of <c>McpSessions</c>: a 2025-11-25 session any instance may continue (see <c>Gateway.Core.Sessions.McpSessionRecord</c>).</summary>
public sealed class McpSessionEntity
{
    public required string Id { get; set; }

    public long AgentId { get; set; }

    public required string KeyHash { get; set; }

    public required string InitializeJson { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Gets or sets the instances holding a copy, comma-separated (see <c>McpSessionRecord.Holders</c>).</summary>
    public string Holders { get; set; } = string.Empty;

    /// <summary>Gets or sets the virtual server it was opened on, or null for <c>/mcp</c> (see <c>McpSessionRecord.VirtualServer</c>).</summary>
    public string? VirtualServer { get; set; }

    /// <summary>Gets or sets what the session received on any instance, as JSON (see <c>Gateway.Core.Guardrails.SessionFacts</c>), or null for nothing yet.</summary>
    public string? Facts { get; set; }
}
