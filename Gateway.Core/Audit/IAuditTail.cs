namespace Gateway.Core.Audit;

/// <summary>Reads the chain forward from a position, in bounded batches: what a consumer that keeps a cursor needs.</summary>
public interface IAuditTail
{
    /// <summary>Reads the highest sequence; 0 when the trail is empty.</summary>
    Task<long> ReadHeadAsync(CancellationToken cancellationToken);

    /// <summary>Reads at most <paramref name="limit"/> entries after <paramref name="after"/>, in sequence order.</summary>
    Task<IReadOnlyList<AuditChainEntry>> ReadAfterAsync(long after, int limit, CancellationToken cancellationToken);
}
