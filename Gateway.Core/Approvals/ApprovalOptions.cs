namespace Gateway.Core.Approvals;

/// <summary><c>Gateway:Approvals</c>.</summary>
public sealed class ApprovalOptions
{
    /// <summary>Gets or sets how long an approval may stay pending; then it expires. The default is 5 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long the agent's request is held; past it the agent is told to retry after approval. The default is 5 minutes.</summary>
    public TimeSpan HoldFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how often a waiting agent gets a progress notification. The default is 10 seconds.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often a waiting call re-reads its approval (decisions made by another instance). The default is 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how often each instance records the expiry of approvals no call waits on any more (the agent stopped
    /// waiting and did not retry), 1 second to 1 hour. The default is 1 minute.
    /// </summary>
    public TimeSpan ExpirySweep { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets a value indicating whether an approver may approve calls of an agent they own (four-eyes
    /// principle). The default is <see langword="true"/>: they may not. Denying is always allowed.
    /// </summary>
    public bool ForbidSelfApproval { get; set; } = true;

    /// <summary>
    /// Gets or sets how many approvals one agent (one agent and user, for calls on a user's behalf) may have pending at
    /// once (1 to 10,000; the default is 100). Each holds the
    /// call's arguments and asks a human; an agent escalating calls with new arguments without end would otherwise grow
    /// the table and the approvers' queue. One more is denied at once, with the reason, and audited.
    /// </summary>
    public int MaxPendingPerAgent { get; set; } = 100;

    /// <summary>
    /// Gets or sets where each new pending approval is posted as JSON (Slack, Teams or a pager behind it): an absolute
    /// http or https URL, checked at start. None by default.
    /// </summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Gets or sets how long one post to the webhook may take, 1 to 60 seconds. The default is 5 seconds.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most <see cref="MaxPendingPerAgent"/> may be.</summary>
    public const int MaxPendingPerAgentCeiling = 10_000;
}
