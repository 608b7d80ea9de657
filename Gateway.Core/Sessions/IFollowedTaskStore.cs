namespace Gateway.Core.Sessions;

/// <summary>
/// The tasks the instances follow to their end (so the audit gets each task's end when no agent asks for it), kept in
/// the shared database so that a task outlives the instance that handed it out: each row is leased to the instance
/// following it, renewed while it does, released when it stops, and claimed by any instance once the lease has run
/// out (an instance that crashed, or stopped, or a restart of it). A lease is the instance's only while the row still
/// holds the lease time it last wrote: renewals and releases are conditional on it, so an instance whose lease ran out
/// (paused, or cut off from the database) and was claimed by another cannot take the task back or free it.
/// </summary>
public interface IFollowedTaskStore
{
    /// <summary>The longest sealed binding kept (a gateway task id is far shorter).</summary>
    const int MaxBindingLength = 8 * 1024;

    /// <summary>Records a task this instance follows from now on, leased to it until <paramref name="leaseUntil"/>.</summary>
    Task AddAsync(FollowedTask task, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>Forgets a task: its end is recorded, or there is none to see.</summary>
    Task RemoveAsync(string callId, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the leases this instance holds (<paramref name="held"/>, each with the lease time it last wrote) to
    /// <paramref name="leaseUntil"/>, and returns the call ids renewed. A task left out is no longer this instance's:
    /// another instance claimed it after its lease ran out, or it is gone (ended, or past its time to live).
    /// </summary>
    Task<IReadOnlyCollection<string>> RenewAsync(IReadOnlyCollection<TaskLease> held, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the leases this instance holds (<paramref name="held"/>) at once, so another instance (or this one
    /// restarted) claims them; a lease another instance holds by now is left as it is.
    /// </summary>
    Task ReleaseAsync(IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken);

    /// <summary>
    /// Claims at most <paramref name="max"/> tasks whose lease ran out before <paramref name="now"/>, each leased until
    /// <paramref name="leaseUntil"/>: a task is claimed by one instance only, whichever is first. Tasks past their
    /// time to live are deleted, not claimed. The claimer holds each as <c>new TaskLease(task.CallId, leaseUntil)</c>.
    /// </summary>
    Task<IReadOnlyList<FollowedTask>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);
}

/// <summary>A task followed to its end.</summary>
/// <param name="CallId">The audited call that created the task (its end entry is recorded under this id).</param>
/// <param name="Agent">The agent the task belongs to (the sealed binding opens for it only).</param>
/// <param name="Binding">The task's binding, sealed as the agent's task id is (encrypted, authenticated).</param>
/// <param name="Until">When following it ends without an end seen (its time to live, at most a day).</param>
public sealed record FollowedTask(string CallId, long Agent, string Binding, DateTimeOffset Until);

/// <summary>A lease an instance holds on a followed task: the lease time it last wrote, which proves the lease is still its own.</summary>
/// <param name="CallId">The followed task's call id.</param>
/// <param name="Until">The lease time this instance last wrote (by adding, claiming or renewing the task).</param>
public readonly record struct TaskLease(string CallId, DateTimeOffset Until);
