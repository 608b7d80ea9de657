namespace Gateway.Data.Entities;

/// <summary>Row of <c>Agents</c>.</summary>
public sealed class AgentEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public bool Enabled { get; set; } = true;

    public bool ManagedByConfiguration { get; set; }

    public string TagsJson { get; set; } = "[]";

    /// <summary>Gets or sets the console user responsible for the agent (self-approval is checked against it).</summary>
    public string? Owner { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<AgentGrantEntity> Grants { get; set; } = [];

    public List<AgentKeyEntity> Keys { get; set; } = [];
}
