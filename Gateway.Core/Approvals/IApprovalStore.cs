namespace Gateway.Core.Approvals;

/// <summary>Durable approvals. Every state change is a conditional update, so concurrent deciders and instances agree.</summary>
public interface IApprovalStore
{
    Task CreateAsync(Approval approval, CancellationToken cancellationToken);

    Task<Approval?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<Approval>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken);

    /// <summary>Pending → Approved or Denied; only one decision ever wins.</summary>
    Task<DecisionResult> DecideAsync(string id, bool approve, string by, string? reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Approved → Executed; <see langword="true"/> for exactly one caller.</summary>
    Task<bool> ConsumeAsync(string id, CancellationToken cancellationToken);

    /// <summary>Pending → Expired, for one approval past its expiry.</summary>
    Task<bool> ExpireAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="max"/> approvals still pending past their expiry (no call waits on them), oldest first.</summary>
    Task<IReadOnlyList<Approval>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Finds a live approval (pending, or approved and unused) for exactly this call by exactly this caller: the agent
    /// and, for an agent acting for a user, that user (<paramref name="actor"/>, the approval's <see cref="Approval.Agent"/>),
    /// so that what an approver allowed one user is not run for another user of the same agent profile.
    /// </summary>
    Task<Approval?> FindForCallAsync(long agentId, string actor, string server, string tool, string toolDefinitionSha256, string argumentsSha256, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// How many approvals of the agent acting as <paramref name="actor"/> (the agent, or the agent for one user) are pending
    /// and not yet expired at <paramref name="now"/>, counting no further than <paramref name="atMost"/>.
    /// </summary>
    Task<int> CountPendingAsync(long agentId, string actor, DateTimeOffset now, int atMost, CancellationToken cancellationToken);
}
