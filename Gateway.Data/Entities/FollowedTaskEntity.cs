namespace Gateway.Data.Entities;

/// <summary>Row of <c>FollowedTasks</c>: a task an instance follows to its end (see <c>Gateway.Core.Sessions.IFollowedTaskStore</c>).</summary>
public sealed class FollowedTaskEntity
{
    public required string CallId { get; set; }

    public long Agent { get; set; }

    /// <summary>Gets or sets the task's binding, sealed with the data-protection key ring (as the agent's task id is).</summary>
    public required string Binding { get; set; }

    /// <summary>Gets or sets when following ends without an end seen, in Unix milliseconds (a plain integer on both engines, as the leases).</summary>
    public long UntilMs { get; set; }

    /// <summary>Gets or sets when the lease of the instance following it runs out, in Unix milliseconds.</summary>
    public long LeaseUntilMs { get; set; }
}
