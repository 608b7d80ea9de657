using Gateway.Core.Audit;
using Gateway.Core.Audit.Evidence;

namespace Gateway.Web.Audit.Evidence;

/// <summary>What went into a pack besides the figures: the chain's verification and the export it carries.</summary>
/// <param name="Framework">The framework the figures are mapped to.</param>
/// <param name="From">The period's start (inclusive).</param>
/// <param name="To">The period's end (exclusive).</param>
/// <param name="CreatedAt">When the pack was made.</param>
/// <param name="Figures">The figures of the period.</param>
/// <param name="Grants">Each agent's grants at the period's start and end.</param>
/// <param name="Chain">The whole chain's verification, against stored checkpoints and witnesses.</param>
/// <param name="Export">The verification of the pack's own export, as an auditor would run it.</param>
/// <param name="Manifest">The export's manifest.</param>
/// <param name="CheckpointsInPeriod">The signed checkpoints of entries of the period, as exported.</param>
/// <param name="Witnesses">Each witness read: how many of this trail's checkpoints it keeps and up to which entry, or why it could not be read.</param>
/// <param name="KeyId">The signing key's id, when there is a key.</param>
/// <param name="Origin">The checkpoints' origin line.</param>
/// <param name="PdfProblem">Why the pack has no PDF report (its fonts are missing), or <see langword="null"/>.</param>
public sealed record EvidenceResult(
    EvidenceFramework Framework,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset CreatedAt,
    EvidenceFigures Figures,
    EvidenceGrants Grants,
    AuditVerification Chain,
    AuditVerification Export,
    AuditExportManifest Manifest,
    IReadOnlyList<AuditCheckpoint> CheckpointsInPeriod,
    IReadOnlyList<EvidenceWitness> Witnesses,
    string? KeyId,
    string? Origin,
    string? PdfProblem);

/// <summary>A witness as the pack used it.</summary>
public sealed record EvidenceWitness(string Name, int Checkpoints, long? Highest, string? Problem);
