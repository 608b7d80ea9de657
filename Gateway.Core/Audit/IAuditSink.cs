namespace Gateway.Core.Audit;

/// <summary>Where audit records go. Implementations must not lose a record they accepted.</summary>
public interface IAuditSink
{
    /// <summary>Accepts a record for durable storage.</summary>
    ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken);
}
