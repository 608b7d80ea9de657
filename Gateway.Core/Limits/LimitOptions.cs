namespace Gateway.Core.Limits;

/// <summary>The gateway-wide default limits per agent (<c>Gateway:Limits</c>); an agent's own value overrides each. 0 means unlimited.</summary>
public sealed class LimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway:Limits";

    /// <summary>Gets or sets the tool calls an agent may start per UTC minute (default 0: unlimited).</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>
    /// Gets or sets the tool calls an agent may have in flight at once (default 16): enough for any real client's
    /// parallel calls, few enough that one agent cannot hold every upstream connection.
    /// </summary>
    public int MaxConcurrentCalls { get; set; } = 16;

    /// <summary>Gets or sets the tool calls an agent may start per UTC day (default 0: unlimited).</summary>
    public int DailyQuota { get; set; }

    /// <summary>
    /// Gets or sets the requests other than tool calls (lists, reads, prompts, completion, tasks, pings) an agent may
    /// send per minute to one instance (default 6,000: 100 a second, beyond any real client's; 0: unlimited). A bound
    /// against a looping agent, counted per instance in memory; tool calls have the limits above.
    /// </summary>
    public int OtherRequestsPerMinute { get; set; } = 6_000;

    /// <summary>
    /// Gets or sets how often each instance adds its counts to the database and reads every instance's totals back
    /// (default 1 s; 100 ms to 1 min). Shorter is closer to exact across instances, for one small query per interval.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the per-tool rules (<c>Gateway:Limits:Tools:{name}</c>), applied per agent on top of its own limits.</summary>
    public Dictionary<string, ToolLimitOptions> Tools { get; } = new(StringComparer.Ordinal);
}
