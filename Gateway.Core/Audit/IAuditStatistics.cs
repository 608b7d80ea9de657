namespace Gateway.Core.Audit;

/// <summary>Tool calls since a moment, by decision: what the dashboard shows.</summary>
/// <param name="Calls">Every tool call.</param>
/// <param name="Blocked">Calls a policy rule (or the default for the tool's class) blocked: decision <c>block</c>.</param>
/// <param name="Refused">
/// Calls the gateway refused before policy: a tool not granted to the agent or not known (the agent gets the same
/// answer for both), a limit reached, arguments that cannot be hashed. Decision <c>deny</c>; apart from
/// <see cref="Blocked"/>, since a refusal is about the agent's grants or load, a block about the call itself.
/// </param>
/// <param name="Failed">Calls that ended in an error or a tool error.</param>
/// <remarks>
/// Escalations are not counted here: a held call's entry is written when the call ends (decided, expired or let go),
/// so it is counted from the approvals (see <c>Gateway.Core.Approvals.IApprovalHistory</c>), which exist from the moment a call is held.
/// </remarks>
public sealed record AuditCounts(int Calls, int Blocked, int Refused, int Failed);

/// <summary>Counts over the audit trail (port; read side only).</summary>
public interface IAuditStatistics
{
    Task<AuditCounts> CountSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
