namespace Gateway.Core.Approvals;

/// <summary>Approvals counted for the dashboard.</summary>
/// <param name="Requested">Calls held for approval since the moment asked for (one per approval: an agent's retry of a held call does not count again).</param>
/// <param name="Pending">Approvals waiting for a decision now (not past their expiry).</param>
public sealed record ApprovalCounts(int Requested, int Pending);

/// <summary>
/// The read side of approvals for the console (port): counts, and the decisions made. Apart from
/// <see cref="IApprovalStore"/>, which the gateway's call path uses.
/// </summary>
public interface IApprovalHistory
{
    Task<ApprovalCounts> CountAsync(DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// The newest approvals that are no longer pending: approved (and perhaps used), denied, or expired, the last also
    /// when nobody marked it (a pending approval past its expiry is shown as <see cref="ApprovalStatus.Expired"/>).
    /// Newest decision first.
    /// </summary>
    Task<IReadOnlyList<Approval>> ListDecidedAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);
}
