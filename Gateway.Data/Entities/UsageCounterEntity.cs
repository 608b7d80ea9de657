namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>UsageCounters</c>: the calls every instance counted for one agent (and per-tool rule) in one window,
/// added to in batches by each instance; windows that have ended are pruned.
/// </summary>
public sealed class UsageCounterEntity
{
    public long AgentId { get; set; }

    /// <summary>Gets or sets the per-tool rule's name; empty for the agent's own limits.</summary>
    public required string Rule { get; set; }

    /// <summary>Gets or sets the window's length in seconds (60 or 86,400).</summary>
    public int Span { get; set; }

    /// <summary>Gets or sets the window's start, Unix seconds.</summary>
    public long WindowStart { get; set; }

    public long Count { get; set; }
}
