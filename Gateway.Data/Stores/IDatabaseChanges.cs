namespace Gateway.Data.Stores;

/// <summary>
/// Tells the in-memory snapshots (agents, keys, policies, pins, servers, approvals, the instance mailbox) when what they
/// hold may have changed in the database, so they re-read it only then instead of on a timer: an idle gateway does no
/// queries, and a busy one does not re-read them for its own audit writes (see <see cref="IDatabaseCommits"/> for those).
/// The tables it covers are <see cref="WatchedTables"/>.
/// </summary>
public interface IDatabaseChanges
{
    /// <summary>Gets a number that grows whenever a change was seen.</summary>
    long Version { get; }

    /// <summary>Waits until <see cref="Version"/> differs from <paramref name="seen"/>; returns the new version.</summary>
    Task<long> WaitForChangeAsync(long seen, CancellationToken cancellationToken);
}
