namespace Gateway.Data.Stores;

/// <summary>
/// Tells whoever follows what is written all the time (new audit entries, usage counts) that the database may hold
/// something new. Unlike <see cref="IDatabaseChanges"/>, which reports changes to what the snapshots hold, on SQLite this
/// reports every commit by another connection, the audit writer's included.
/// </summary>
public interface IDatabaseCommits
{
    /// <summary>Gets a number that grows whenever a commit was seen.</summary>
    long Version { get; }

    /// <summary>Waits until <see cref="Version"/> differs from <paramref name="seen"/>; returns the new version.</summary>
    Task<long> WaitForCommitAsync(long seen, CancellationToken cancellationToken);
}
