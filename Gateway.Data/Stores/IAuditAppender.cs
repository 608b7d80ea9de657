using Gateway.Core.Audit;

namespace Gateway.Data.Stores;

/// <summary>
/// The provider-specific half of the audit writer: appends a batch of records to the chain in one transaction. The
/// batching, coalescing and the promises made to callers live in <see cref="BatchingAuditSink"/>, once for every provider.
/// </summary>
internal interface IAuditAppender : IAsyncDisposable
{
    /// <summary>
    /// Chains <paramref name="records"/> after the current head and commits them as one transaction. When
    /// <paramref name="durable"/> the commit is on disk when this returns; otherwise it is visible to readers and survives
    /// a crash of this process, and reaches the disk at the next durable commit or <see cref="SyncAsync"/>.
    /// </summary>
    /// <returns>The sequence number of the last record appended.</returns>
    Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken);

    /// <summary>
    /// Puts every append that returned before this call began on disk. May run beside an <see cref="AppendAsync"/> (the
    /// window's sync runs without the writing slot); appends are never run beside each other.
    /// </summary>
    Task SyncAsync(CancellationToken cancellationToken);
}
