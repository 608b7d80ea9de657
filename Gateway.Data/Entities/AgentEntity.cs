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

    /// <summary>Gets or sets the agent's tool calls per UTC minute; null takes the gateway default, 0 is unlimited.</summary>
    public int? LimitRequestsPerMinute { get; set; }

    /// <summary>Gets or sets the agent's tool calls in flight at once; null takes the gateway default, 0 is unlimited.</summary>
    public int? LimitMaxConcurrent { get; set; }

    /// <summary>Gets or sets the agent's tool calls per UTC day; null takes the gateway default, 0 is unlimited.</summary>
    public int? LimitDailyQuota { get; set; }

    /// <summary>Gets or sets whether the agent discovers its tools on /mcp by search (search_tools, call_tool) instead of the full list.</summary>
    public bool ToolSearch { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<AgentGrantEntity> Grants { get; set; } = [];

    public List<AgentKeyEntity> Keys { get; set; } = [];
}
