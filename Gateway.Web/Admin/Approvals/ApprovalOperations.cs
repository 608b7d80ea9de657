using Gateway.Core.Approvals;

namespace Gateway.Web.Admin.Approvals;

/// <summary>Deciding a held call, for the admin API and the console's Approvals page: Approvers and Admins only, once.</summary>
internal sealed class ApprovalOperations(ApprovalGate gate, IAdminActor actor)
{
    /// <summary>
    /// Approves (the waiting call, or its retry, runs once) or denies (it gets a tool error naming the decision), under
    /// the caller's name. Conflict when already decided or expired; forbidden when the caller owns the call's agent and
    /// self-approval is forbidden.
    /// </summary>
    public async Task<AdminResult<Approval>> DecideAsync(string id, bool approve, string? reason, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Decide);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await gate.DecideAsync(id, approve, caller.Name, reason, cancellationToken) switch
        {
            DecisionResult.Decided => AdminResult.Done((await gate.GetAsync(id, cancellationToken))!),
            DecisionResult.AlreadyDecided => AdminResult.Conflict($"Approval {id} was already decided or has expired."),
            DecisionResult.SelfApprovalForbidden => AdminResult.Forbidden($"You own the agent of approval {id}; another approver must approve it (Gateway:Approvals:ForbidSelfApproval)."),
            _ => AdminResult.NotFound($"No approval {id}."),
        };
    }
}
