namespace Gateway.Data.Entities;

/// <summary>Row of <c>AuditCheckpoints</c>: a signed head of the chain (see <c>Gateway.Core.Audit.AuditCheckpoint</c>).</summary>
public sealed class AuditCheckpointEntity
{
    public long Sequence { get; set; }

    public required string Hash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required string KeyId { get; set; }

    public required string Signature { get; set; }
}
