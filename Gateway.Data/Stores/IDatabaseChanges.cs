namespace Gateway.Data.Stores;

/// <summary>
/// Tells the in-memory snapshots (agents, policies, pins, checkpoints) when the database may have changed under them,
/// so they re-read it only then instead of on a timer: an idle gateway does no queries.
/// </summary>
public interface IDatabaseChanges
{
    /// <summary>Gets a number that grows whenever a change was seen.</summary>
    long Version { get; }

    /// <summary>Waits until <see cref="Version"/> differs from <paramref name="seen"/>; returns the new version.</summary>
    Task<long> WaitForChangeAsync(long seen, CancellationToken cancellationToken);
}
