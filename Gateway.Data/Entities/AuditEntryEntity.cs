namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>AuditEntries</c>. <see cref="Sequence"/> is gap-free and <see cref="PreviousHash"/>/<see cref="Hash"/>
/// are reserved for the tamper-evident chain, so the table can be chained without a schema change.
/// </summary>
public sealed class AuditEntryEntity
{
    public long Sequence { get; set; }

    public DateTimeOffset Timestamp { get; set; }

    public required string Kind { get; set; }

    public required string Actor { get; set; }

    public string? Server { get; set; }

    public string? Tool { get; set; }

    public required string Decision { get; set; }

    public string? Rule { get; set; }

    public required string Outcome { get; set; }

    public double DurationMs { get; set; }

    public string? Error { get; set; }

    public string? ArgumentsSha256 { get; set; }

    public string? PreviousHash { get; set; }

    public string? Hash { get; set; }
}
