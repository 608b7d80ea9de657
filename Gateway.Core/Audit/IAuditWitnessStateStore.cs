namespace Gateway.Core.Audit;

/// <summary>
/// How each checkpoint witness is doing, kept in the database: it outlives a restart, and every instance that pushes
/// records into the same rows.
/// </summary>
public interface IAuditWitnessStateStore
{
    /// <summary>The longest witness name kept (a directory path or a URL); a longer one is kept cut to this.</summary>
    const int MaxNameLength = 512;

    /// <summary>Reads every witness's state.</summary>
    Task<IReadOnlyList<AuditWitnessStatus>> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="witness"/> took the checkpoint at <paramref name="sequence"/> (never moves back to an older one).</summary>
    Task RecordPushedAsync(string witness, long sequence, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records a failure (bounded text).</summary>
    Task RecordFailedAsync(string witness, string error, DateTimeOffset at, CancellationToken cancellationToken);
}
