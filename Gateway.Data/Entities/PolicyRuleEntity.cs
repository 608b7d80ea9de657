namespace Gateway.Data.Entities;

/// <summary>Row of <c>PolicyRules</c>: a rule stored as its document (JSON), validated before it is written.</summary>
public sealed class PolicyRuleEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Json { get; set; }

    public bool ManagedByConfiguration { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
