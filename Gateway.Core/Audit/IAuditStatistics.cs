namespace Gateway.Core.Audit;

/// <summary>Tool calls since a moment, by decision: what the dashboard shows.</summary>
/// <param name="Calls">Every tool call.</param>
/// <param name="Blocked">Calls a policy blocked.</param>
/// <param name="Escalated">Calls a policy escalated for approval.</param>
/// <param name="Failed">Calls that ended in an error or a tool error.</param>
public sealed record AuditCounts(int Calls, int Blocked, int Escalated, int Failed);

/// <summary>Counts over the audit trail (port; read side only).</summary>
public interface IAuditStatistics
{
    Task<AuditCounts> CountSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
