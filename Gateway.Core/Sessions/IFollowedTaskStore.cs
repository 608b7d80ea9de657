namespace Gateway.Core.Sessions;

/// <summary>
/// The tasks the instances follow to their end (so the audit gets each task's end when no agent asks for it), kept in
/// the shared database so that a task outlives the instance that handed it out: each row is leased to the instance
/// following it, renewed while it does, released when it stops, and claimed by any instance once the lease has run
/// out (an instance that crashed, or stopped, or a restart of it).
/// </summary>
public interface IFollowedTaskStore
{
    /// <summary>The longest sealed binding kept (a gateway task id is far shorter).</summary>
    const int MaxBindingLength = 8 * 1024;

    /// <summary>Records a task this instance follows from now on, leased to it until <paramref name="leaseUntil"/>.</summary>
    Task AddAsync(FollowedTask task, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Forgets a task: its end is recorded, or there is none to see.</summary>
    Task RemoveAsync(string callId, CancellationToken cancellationToken);

    /// <summary>Extends this instance's leases of <paramref name="callIds"/> to <paramref name="leaseUntil"/>.</summary>
    Task RenewAsync(IReadOnlyCollection<string> callIds, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Ends the leases of <paramref name="callIds"/> at once, so another instance (or this one restarted) claims them.</summary>
    Task ReleaseAsync(IReadOnlyCollection<string> callIds, CancellationToken cancellationToken);

    /// <summary>
    /// Claims at most <paramref name="max"/> tasks whose lease ran out before <paramref name="now"/>, each leased until
    /// <paramref name="leaseUntil"/>: a task is claimed by one instance only, whichever is first. Tasks past their
    /// time to live are deleted, not claimed.
    /// </summary>
    Task<IReadOnlyList<FollowedTask>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);
}

/// <summary>A task followed to its end.</summary>
/// <param name="CallId">The audited call that created the task (its end entry is recorded under this id).</param>
/// <param name="Agent">The agent the task belongs to (the sealed binding opens for it only).</param>
/// <param name="Binding">The task's binding, sealed as the agent's task id is (encrypted, authenticated).</param>
/// <param name="Until">When following it ends without an end seen (its time to live, at most a day).</param>
public sealed record FollowedTask(string CallId, long Agent, string Binding, DateTimeOffset Until);
