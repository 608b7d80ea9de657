namespace Gateway.Data.Entities;

/// <summary>Row of <c>AgentGrants</c>: one <c>server/toolglob</c> pattern of an agent.</summary>
public sealed class AgentGrantEntity
{
    public long Id { get; set; }

    public long AgentId { get; set; }

    public int Position { get; set; }

    public required string Pattern { get; set; }
}
