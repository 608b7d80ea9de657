using System.Security.Cryptography;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;
using Gateway.Core.Pipeline;

namespace Gateway.Core.Approvals;

/// <summary>
/// Holds escalated calls until a human decides. The approval is persisted before the agent waits, so it survives the
/// agent giving up and the gateway restarting; a decision is single-use and bound to the exact call, and a call runs
/// once, never twice: whoever consumes the approval (the waiting request, or the agent's retry) runs it.
/// </summary>
/// <remarks>
/// With <c>changes</c> (the database's admin change transactions) a request commits in one transaction with its
/// <c>approval_requested</c> entry, a decision, a human's act, with its <c>approval_approved</c> or
/// <c>approval_denied</c> entry, and an expiry with its <c>approval_expired</c> entry, or neither is kept: the trail has
/// the request before any decision of it.
/// </remarks>
public sealed class ApprovalGate(IApprovalStore store, ApprovalEvents events, IAuditSink audit, ApprovalOptions options, TimeProvider time, IAgentStore? agents = null, IConsoleUserStore? users = null, IAdminChangeTransactions? changes = null) : IApprovalGate
{
    // Completed and replaced whenever an approval may have changed: every held call re-reads its approval then.
    private TaskCompletionSource _nudge = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Completed when this instance shuts down: held calls are let go (their approvals stay pending in the database).
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc/>
    public async ValueTask<ApprovalVerdict> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var approval = await store.FindForCallAsync(request.Agent.Id, request.Agent.ActorName, request.Server, request.Tool, request.ToolDefinitionSha256, request.ArgumentsSha256, now, cancellationToken);
        if (approval is { Status: ApprovalStatus.Approved } && await store.ConsumeAsync(approval.Id, cancellationToken))
        {
            // The agent's retry of a call approved after its first request ended: it runs without asking again, once.
            return new ApprovalVerdict(true, string.Empty);
        }

        if (approval is not { Status: ApprovalStatus.Pending })
        {
            // Checked before each new one; requests racing past it together add at most the agent's calls in flight.
            if (await store.CountPendingAsync(request.Agent.Id, request.Agent.ActorName, now, options.MaxPendingPerAgent, cancellationToken) >= options.MaxPendingPerAgent)
            {
                return new ApprovalVerdict(false, $"This agent already has {options.MaxPendingPerAgent} calls waiting for approval (Gateway:Approvals:MaxPendingPerAgent); this one was not put to an approver. Retry once some are decided.");
            }

            approval = new Approval
            {
                Id = "apr_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
                AgentId = request.Agent.Id,
                Agent = request.Agent.ActorName,
                Server = request.Server,
                Tool = request.Tool,
                ToolDefinitionSha256 = request.ToolDefinitionSha256,
                ArgumentsJson = CanonicalJson.SerializeObject(request.Arguments ?? new Dictionary<string, System.Text.Json.JsonElement>()),
                ArgumentsSha256 = request.ArgumentsSha256,
                Rule = request.Decision.Rule,
                Reason = request.Decision.Reason,
                CreatedAt = now,
                ExpiresAt = now + options.Timeout,
                Status = ApprovalStatus.Pending,
            };
            try
            {
                // With its entry, as a decision is: the request is in the trail before anyone can decide it.
                await WithEntriesAsync(
                    async add =>
                    {
                        await store.CreateAsync(approval, CancellationToken.None);
                        add(Record(approval, "approval_requested", approval.Agent, "escalate", null));
                        return true;
                    },
                    CancellationToken.None);
            }
            catch (AuditUnavailableException)
            {
                return new ApprovalVerdict(false, "The audit trail is unavailable, so the call was not put to an approver. Retry later.");
            }

            events.Raise(approval);
        }

        return await WaitAsync(approval, request, cancellationToken);
    }

    /// <summary>Gets an approval.</summary>
    public Task<Approval?> GetAsync(string id, CancellationToken cancellationToken) => store.GetAsync(id, cancellationToken);

    /// <summary>
    /// The longest reason a decision may give (the operations layer refuses a longer one): it is stored with the approval,
    /// written into the append-only audit trail and its SIEM events, and shown to the agent on denial.
    /// </summary>
    public const int MaxReasonLength = 1_000;

    /// <summary>Records a decision; of two concurrent decisions exactly one wins.</summary>
    /// <param name="id">The approval.</param>
    /// <param name="approve">Approve (true) or deny.</param>
    /// <param name="by">The deciding user's name, compared with the agent's owner when self-approval is forbidden.</param>
    /// <param name="reason">An optional reason, shown to the agent on denial and kept in the audit.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    public Task<DecisionResult> DecideAsync(string id, bool approve, string by, string? reason, CancellationToken cancellationToken) =>
        DecideAsync(id, approve, new Approver(by), reason, cancellationToken);

    /// <summary>Records a decision; of two concurrent decisions exactly one wins.</summary>
    /// <param name="id">The approval.</param>
    /// <param name="approve">Approve (true) or deny.</param>
    /// <param name="by">The deciding user, compared with the agent's owner and the call's user when self-approval is forbidden.</param>
    /// <param name="reason">An optional reason, shown to the agent on denial and kept in the audit; at most <see cref="MaxReasonLength"/>.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    public async Task<DecisionResult> DecideAsync(string id, bool approve, Approver by, string? reason, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(reason?.Length ?? 0, MaxReasonLength, nameof(reason));
        if (approve && await store.GetAsync(id, cancellationToken) is { } approval && await IsSelfApprovalForbiddenAsync(approval, by, cancellationToken))
        {
            return DecisionResult.SelfApprovalForbidden;
        }

        // Throws AuditUnavailableException when the entry cannot be written: then the approval is still pending.
        Approval? decided = null;
        var result = await WithEntriesAsync(
            async add =>
            {
                // Inside the change the store's reads and writes join its transaction: the read sees the update.
                var outcome = await store.DecideAsync(id, approve, by.Name, reason, time.GetUtcNow(), cancellationToken);
                if (outcome == DecisionResult.Decided && await store.GetAsync(id, CancellationToken.None) is { } approval)
                {
                    decided = approval;
                    add(Record(approval, approve ? "approval_approved" : "approval_denied", by.Name, approve ? "approve" : "deny", reason));
                }

                return outcome;
            },
            cancellationToken);
        if (decided is not null)
        {
            events.Raise(decided);
            WakeAll();
        }

        return result;
    }

    /// <summary>
    /// Whether <paramref name="by"/> may not approve <paramref name="approval"/>: self-approval is forbidden, they own its
    /// agent, and someone else could approve it. Four eyes need a second pair: while no other enabled console user is
    /// an Approver or Admin (a lone admin after the first start), the rule would only leave every call of the agents
    /// they created to expire, so it applies from the moment a second approver exists.
    /// </summary>
    /// <param name="approval">The held call.</param>
    /// <param name="by">The user who would approve it.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    public Task<bool> IsSelfApprovalForbiddenAsync(Approval approval, string by, CancellationToken cancellationToken) =>
        IsSelfApprovalForbiddenAsync(approval, new Approver(by), cancellationToken);

    /// <inheritdoc cref="IsSelfApprovalForbiddenAsync(Approval, string, CancellationToken)"/>
    public async Task<bool> IsSelfApprovalForbiddenAsync(Approval approval, Approver by, CancellationToken cancellationToken)
    {
        if (!options.ForbidSelfApproval || !await IsOwnCallAsync(approval, by, cancellationToken))
        {
            return false;
        }

        // Without the user directory nobody can tell whether another approver exists: the rule holds.
        return users is null || (await users.ListAsync(cancellationToken)).Any(u =>
            u.Enabled
            && !string.Equals(u.UserName, by.Name, StringComparison.OrdinalIgnoreCase)
            && u.Roles.Any(r => r is ConsoleRoles.Admin or ConsoleRoles.Approver));
    }

    /// <summary>
    /// Lets every held call go, now and from now on, with the "approval pending, retry" answer: called when the instance
    /// shuts down. Nothing is lost: each approval stays pending in the database, and the agent's retry of the same call
    /// after a decision runs it once, on whichever instance it reaches.
    /// </summary>
    public void ReleaseHeldCalls()
    {
        _released.TrySetResult();
        WakeAll();
    }

    /// <summary>
    /// Makes every held call re-read its approval now: called after a local decision, and when another instance may
    /// have decided one (a database change), so a decision made anywhere releases the call without waiting for a poll.
    /// </summary>
    public void WakeAll() => Interlocked.Exchange(ref _nudge, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    // The decider's own call: one of an agent they own, or a Try it call they made from the console (agent
    // console:<by>), or a call an agent made for them (OAuth; under the name the agents' tokens give them): the user
    // may not approve what they asked for through an agent.
    private async Task<bool> IsOwnCallAsync(Approval approval, Approver by, CancellationToken cancellationToken) =>
        string.Equals(approval.Agent, Gateway.Core.Audit.Admin.AuditActor.Console(by.Name), StringComparison.OrdinalIgnoreCase)
        || approval.Agent.EndsWith(Gateway.Core.Agents.AgentIdentity.ForUser + by.Name, StringComparison.OrdinalIgnoreCase)
        || approval.Agent.EndsWith(Gateway.Core.Agents.AgentIdentity.ForUser + by.AsAgentsUser, StringComparison.OrdinalIgnoreCase)
        || (agents is not null
            && await agents.FindAsync(approval.Agent, cancellationToken) is { Owner: { } owner }
            && string.Equals(owner, by.Name, StringComparison.OrdinalIgnoreCase));

    private async Task<ApprovalVerdict> WaitAsync(Approval approval, ApprovalRequest request, CancellationToken cancellationToken)
    {
        var holdUntil = Min(approval.ExpiresAt, time.GetUtcNow() + options.HoldFor);
        // Without a heartbeat there is nothing to schedule: MaxValue, or the wait below would never sleep.
        var nextHeartbeat = request.Heartbeat is null ? DateTimeOffset.MaxValue : time.GetUtcNow();
        while (true)
        {
            // Taken before the read: a nudge that arrives between the read and the wait is not lost.
            var nudge = Volatile.Read(ref _nudge).Task;
            var current = await store.GetAsync(approval.Id, CancellationToken.None) ?? approval;
            var now = time.GetUtcNow();
            switch (current.Status)
            {
                case ApprovalStatus.Approved:
                    return await store.ConsumeAsync(current.Id, CancellationToken.None)
                        ? new ApprovalVerdict(true, string.Empty)
                        : new ApprovalVerdict(false, $"Approval {current.Id} was already used by another identical call.");
                case ApprovalStatus.Denied:
                    return new ApprovalVerdict(false, $"Denied by {current.DecidedBy} (approval {current.Id})" + (string.IsNullOrWhiteSpace(current.DecisionReason) ? "." : ": " + current.DecisionReason));
                case ApprovalStatus.Expired:
                    return Expired(current);
                case ApprovalStatus.Executed:
                    return new ApprovalVerdict(false, $"Approval {current.Id} was already used by another identical call.");
            }

            if (now >= current.ExpiresAt)
            {
                try
                {
                    await ExpireAsync(current, now, CancellationToken.None);
                }
                catch (AuditUnavailableException)
                {
                    // Left pending in the store until a later look records its expiry with its entry; past its time no
                    // approver can decide it (the store's decision checks the time), and the call is not made.
                    return Expired(current);
                }

                continue;
            }

            if (now >= holdUntil || _released.Task.IsCompleted)
            {
                return new ApprovalVerdict(false, PendingMessage(current));
            }

            if (now >= nextHeartbeat && request.Heartbeat is { } heartbeat)
            {
                await heartbeat($"Waiting for a human to approve this call ({current.Id}); {(int)(current.ExpiresAt - now).TotalSeconds} s left. {PendingMessage(current)}");
                nextHeartbeat = now + options.HeartbeatInterval;
            }

            // Released at once by a nudge (a decision here, or a database change another instance made); the poll
            // interval is the safety net when no change is reported.
            var until = Min(Min(holdUntil, current.ExpiresAt), Min(nextHeartbeat, now + options.PollInterval));
            var delay = until - now;
            await Task.WhenAny(nudge, Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.FromMilliseconds(1), time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static string PendingMessage(Approval approval) =>
        $"Approval pending, id {approval.Id}: retry the same call after approval (it stays valid until {approval.ExpiresAt:yyyy-MM-ddTHH:mm:ssZ}).";

    private static ApprovalVerdict Expired(Approval approval) =>
        new(false, $"Approval {approval.Id} expired at {approval.ExpiresAt:yyyy-MM-ddTHH:mm:ssZ} without a decision; the call was not made.");

    /// <summary>
    /// Records the expiry of at most <paramref name="max"/> approvals that ran out with no call waiting on them (the
    /// agent stopped waiting and did not retry), oldest first; yields how many this call expired (another instance may
    /// take some first).
    /// </summary>
    /// <exception cref="AuditUnavailableException">An expiry's entry could not be written; it is left for the next sweep.</exception>
    public async Task<int> ExpireDueAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = 0;
        foreach (var due in await store.ListDueAsync(now, max, cancellationToken))
        {
            if (await ExpireAsync(due, now, cancellationToken))
            {
                expired++;
            }
        }

        return expired;
    }

    /// <summary>Expires an approval past its time with its entry (a crash in between leaves neither); false when another did.</summary>
    private async Task<bool> ExpireAsync(Approval approval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = await WithEntriesAsync(
            async add =>
            {
                var done = await store.ExpireAsync(approval.Id, now, cancellationToken);
                if (done)
                {
                    add(Record(approval, "approval_expired", "gateway", "expire", null));
                }

                return done;
            },
            cancellationToken);
        if (expired)
        {
            events.Raise(approval with { Status = ApprovalStatus.Expired });
        }

        return expired;
    }

    /// <summary>
    /// Runs <paramref name="change"/> with the entries it adds (through the action it is given): in one transaction with
    /// them, or, without <c>changes</c> (a store that has no transactions, as in the page tests), queued just after it.
    /// </summary>
    /// <exception cref="AuditUnavailableException">The entries could not be written; nothing the change wrote is kept.</exception>
    private async Task<T> WithEntriesAsync<T>(Func<Action<AuditRecord>, Task<T>> change, CancellationToken cancellationToken)
    {
        if (changes is not null)
        {
            return await changes.RunAsync(entries => change(entries.Add), cancellationToken);
        }

        var entries = new List<AuditRecord>();
        var result = await change(entries.Add);
        foreach (var entry in entries)
        {
            await audit.WriteAsync(entry, CancellationToken.None);
        }

        return result;
    }

    private AuditRecord Record(Approval approval, string kind, string actor, string decision, string? reason) =>
        new()
        {
            Timestamp = time.GetUtcNow(),
            Kind = kind,
            Actor = actor,
            Server = approval.Server,
            Tool = approval.Tool,
            Decision = decision,
            Rule = approval.Rule,
            Outcome = AuditOutcomes.Ok,
            Error = reason is null ? approval.Id : $"{approval.Id}: {reason}",
            ArgumentsSha256 = approval.ArgumentsSha256,
        };

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
