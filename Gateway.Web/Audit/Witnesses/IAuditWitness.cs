namespace Gateway.Web.Audit.Witnesses;

/// <summary>A place off the host that keeps signed-note checkpoints (see <see cref="Gateway.Core.Audit.AuditCheckpointNote"/>).</summary>
public interface IAuditWitness
{
    /// <summary>Gets what the witness is, for logs, the console and verify's report.</summary>
    string Name { get; }

    /// <summary>Hands a checkpoint over to be kept.</summary>
    /// <exception cref="AuditWitnessConflictException">The witness already keeps another checkpoint for that entry (not retried).</exception>
    Task PushAsync(long sequence, string note, CancellationToken cancellationToken);

    /// <summary>Reads every note the witness keeps.</summary>
    Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>The witness keeps a different checkpoint for the same entry: the chain was rewritten or an older backup restored.</summary>
public sealed class AuditWitnessConflictException(string message) : Exception(message);
