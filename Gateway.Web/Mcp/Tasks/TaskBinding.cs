using Gateway.Core.Pipeline;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// What the task id an agent gets holds, sealed: whose task it is (the agent, and the user it acted for), which upstream runs it under which id of its own,
/// and the audited call that created it (for the entry of its end).
/// </summary>
/// <param name="Agent">The id of the agent that called the tool.</param>
/// <param name="UpstreamTaskId">The upstream's own task id.</param>
/// <param name="Call">The call that created the task (its server is the one that runs it).</param>
internal sealed record TaskBinding(long Agent, string UpstreamTaskId, TaskedCall Call)
{
    /// <summary>
    /// Gets the user the agent acted for (an OAuth caller), or null for an agent with its own key: the task is theirs,
    /// not every user's of the same agent profile.
    /// </summary>
    public string? User { get; init; }

    public string Server => Call.Server;
}
