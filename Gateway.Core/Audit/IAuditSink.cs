namespace Gateway.Core.Audit;

/// <summary>Where audit records go. Implementations must not lose a record they accepted.</summary>
public interface IAuditSink
{
    /// <summary>Accepts a record for durable storage; returns before it is committed.</summary>
    ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a record and returns once it is committed (write-before-forward). Throws
    /// <see cref="AuditUnavailableException"/> when it could not be, so the caller can refuse the action it describes.
    /// </summary>
    /// <remarks>The default suits sinks that write synchronously (test doubles); a buffering sink must override it.</remarks>
    ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken) => WriteAsync(record, cancellationToken);
}
