using Gateway.Core.Approvals;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Credentials.Users;

namespace Gateway.Web.Admin.Approvals;

/// <summary>Deciding a held call, for the admin API and the console's Approvals page: Approvers and Admins only, once.</summary>
internal sealed class ApprovalOperations(ApprovalGate gate, IApprovalStore store, IAdminActor actor, AgentOAuthSettings oauth)
{
    /// <summary>The most approvals one list returns.</summary>
    public const int MaxList = 500;

    /// <summary>Approvals, newest first: those with <paramref name="status"/>, or every one when <see langword="null"/>.</summary>
    public async Task<AdminResult<IReadOnlyList<Approval>>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Decide);
        return refusal ?? AdminResult.Done(await store.ListAsync(status, Math.Clamp(limit, 1, MaxList), cancellationToken));
    }

    /// <summary>One approval with the exact arguments of the held call.</summary>
    public async Task<AdminResult<Approval>> GetAsync(string id, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Decide);
        return refusal ?? (await store.GetAsync(id, cancellationToken) is { } approval ? AdminResult.Done(approval) : AdminResult.NotFound($"No approval {id}."));
    }

    /// <summary>
    /// The ids of <paramref name="approvals"/> that are the caller's own calls to decide while self-approval is
    /// forbidden (the cards say so before the click). The caller is read once for all of them.
    /// </summary>
    public async Task<IReadOnlySet<string>> SelfApprovalForbiddenAsync(IEnumerable<Approval> approvals, CancellationToken cancellationToken)
    {
        var caller = await actor.CurrentAsync();
        var forbidden = new HashSet<string>(StringComparer.Ordinal);
        if (caller.User.Identity?.Name is not { Length: > 0 })
        {
            return forbidden;
        }

        var approver = ApproverOf(caller);
        foreach (var approval in approvals)
        {
            if (await gate.IsSelfApprovalForbiddenAsync(approval, approver, cancellationToken))
            {
                forbidden.Add(approval.Id);
            }
        }

        return forbidden;
    }

    /// <summary>
    /// Approves (the waiting call, or its retry, runs once) or denies (it gets a tool error naming the decision), under
    /// the caller's name. Conflict when already decided or expired; forbidden when the caller owns the call's agent and
    /// self-approval is forbidden; invalid when the reason is longer than <see cref="ApprovalGate.MaxReasonLength"/>.
    /// </summary>
    public async Task<AdminResult<Approval>> DecideAsync(string id, bool approve, string? reason, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Decide);
        if (refusal is not null)
        {
            return refusal;
        }

        if (reason?.Length > ApprovalGate.MaxReasonLength)
        {
            return AdminResult.Invalid(
                new Dictionary<string, string[]> { ["reason"] = [$"The reason is at most {ApprovalGate.MaxReasonLength} characters."] },
                "The decision is invalid; nothing was decided.");
        }

        using var audit = caller.Audit();
        return await gate.DecideAsync(id, approve, ApproverOf(caller), reason, cancellationToken) switch
        {
            DecisionResult.Decided => AdminResult.Done((await gate.GetAsync(id, cancellationToken))!),
            DecisionResult.AlreadyDecided => AdminResult.Conflict($"Approval {id} was already decided or has expired."),
            DecisionResult.SelfApprovalForbidden => AdminResult.Forbidden($"Approval {id} is of your own call (you own its agent, made it from the console, or an agent made it for you); another approver must approve it (Gateway:Approvals:ForbidSelfApproval)."),
            _ => AdminResult.NotFound($"No approval {id}."),
        };
    }

    // The caller under both their names: an OIDC console user's agents act for them under their token's subject.
    private Approver ApproverOf(AdminCaller caller) =>
        new(caller.Name, AgentsUser.Of(caller.User, oauth) is { Length: > 0 } asAgentsUser ? asAgentsUser : caller.Name);
}
