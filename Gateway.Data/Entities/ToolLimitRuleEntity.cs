namespace Gateway.Data.Entities;

/// <summary>Row of <c>ToolLimitRules</c>: a per-tool limit made through the API or the console (configuration's rules are not stored).</summary>
public sealed class ToolLimitRuleEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    /// <summary>Gets or sets the tools it applies to: <c>server/tool</c>, globs.</summary>
    public required string Match { get; set; }

    public int RequestsPerMinute { get; set; }

    public int MaxConcurrent { get; set; }

    public int DailyQuota { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
