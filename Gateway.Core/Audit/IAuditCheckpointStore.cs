namespace Gateway.Core.Audit;

/// <summary>Reads the chain's head and keeps signed checkpoints.</summary>
public interface IAuditCheckpointStore
{
    /// <summary>Reads the last entry's sequence and hash; <see langword="null"/> when the chain is empty.</summary>
    Task<(long Sequence, string Hash)?> ReadHeadAsync(CancellationToken cancellationToken);

    /// <summary>Reads the latest checkpoint, when there is one.</summary>
    Task<AuditCheckpoint?> ReadLastAsync(CancellationToken cancellationToken);

    /// <summary>Reads at most <paramref name="limit"/> checkpoints with a sequence after <paramref name="after"/> and up to <paramref name="upTo"/>, in sequence order.</summary>
    Task<IReadOnlyList<AuditCheckpoint>> ReadRangeAsync(long after, long upTo, int limit, CancellationToken cancellationToken);

    /// <summary>Stores a checkpoint; returns <see langword="false"/> when one for that sequence exists (another instance signed it).</summary>
    Task<bool> AddAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken);
}
