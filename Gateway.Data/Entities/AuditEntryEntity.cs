namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>AuditEntries</c>, the hash chain: <see cref="Sequence"/> is gap-free and <see cref="Hash"/> is the SHA-256
/// of the entry's canonical form including <see cref="PreviousHash"/> (see <c>Gateway.Core.Audit.AuditChain</c>).
/// Append-only: triggers refuse UPDATE and DELETE.
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

    public string? ArgumentsRedacted { get; set; }

    public string? ResultSha256 { get; set; }

    /// <summary>Gets or sets the result guard's findings (canonical JSON; kinds and locations, never secrets).</summary>
    public string? Findings { get; set; }

    public string? CallId { get; set; }

    public string? PreviousHash { get; set; }

    public string? Hash { get; set; }
}
