namespace Gateway.Web.Audit;

/// <summary>
/// <c>{export}.manifest.json</c>: what an export holds and the SHA-256 of its files, so an offline verifier can tell
/// the files are the ones written, and the public key the checkpoints were signed with.
/// </summary>
public sealed record AuditExportManifest
{
    /// <summary>The format name.</summary>
    public const string FormatName = "mcpgw.audit.export.v1";

    public string Format { get; init; } = FormatName;

    public required DateTimeOffset CreatedAt { get; init; }

    public required string EntriesFile { get; init; }

    public required string EntriesSha256 { get; init; }

    public required string CheckpointsFile { get; init; }

    public required string CheckpointsSha256 { get; init; }

    public required long Count { get; init; }

    public long? FirstSequence { get; init; }

    public long? LastSequence { get; init; }

    /// <summary>Gets whether the export is the whole chain (no filter): then it must start at 1 and reach every checkpoint.</summary>
    public required bool Complete { get; init; }

    public Dictionary<string, string> Filter { get; init; } = [];

    public string? PublicKeyPem { get; init; }

    public string? KeyId { get; init; }

    /// <summary>
    /// Gets the reports that came with the export, by file name (next to it) with their SHA-256: an evidence pack's
    /// HTML and PDF reports. Absent from a plain export.
    /// </summary>
    public Dictionary<string, string>? Reports { get; init; }
}
