namespace Gateway.Core.Audit;

/// <summary>Which audit entries to read (export, console). Every criterion given must hold; text matches tool, error, rule and redacted arguments.</summary>
public sealed record AuditFilter
{
    /// <summary>Gets the earliest timestamp, inclusive.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Gets the latest timestamp, exclusive.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Gets the actor (agent) name.</summary>
    public string? Agent { get; init; }

    /// <summary>Gets the upstream server name.</summary>
    public string? Server { get; init; }

    /// <summary>Gets the tool name.</summary>
    public string? Tool { get; init; }

    /// <summary>Gets the decision.</summary>
    public string? Decision { get; init; }

    /// <summary>Gets the outcome.</summary>
    public string? Outcome { get; init; }

    /// <summary>Gets free text.</summary>
    public string? Text { get; init; }

    /// <summary>Gets whether no criterion is given (the whole chain).</summary>
    public bool IsEmpty => this == new AuditFilter();
}
