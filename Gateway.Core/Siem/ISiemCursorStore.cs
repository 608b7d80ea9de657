namespace Gateway.Core.Siem;

/// <summary>
/// The sinks' cursors, shared by the instances on one database. A lease decides which instance streams a sink: only
/// its holder moves the cursor (every move is fenced by the owner), so instances take turns instead of sending twice.
/// </summary>
public interface ISiemCursorStore
{
    /// <summary>Reads every sink's cursor, for the console and the lag metric.</summary>
    Task<IReadOnlyList<SiemCursor>> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates the sink's cursor at <paramref name="start"/> if it has none, then takes or renews its lease for
    /// <paramref name="owner"/> until <paramref name="until"/> when it is free, expired (before <paramref name="now"/>) or
    /// already the owner's. Returns the cursor's sequence when the owner holds the lease, <see langword="null"/> when another does.
    /// </summary>
    Task<long?> TryLeaseAsync(string sink, string owner, long start, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the cursor to <paramref name="sequence"/>, records the success and renews the lease until
    /// <paramref name="until"/>; <see langword="false"/> when <paramref name="owner"/> no longer holds the lease (nothing changed).
    /// </summary>
    Task<bool> AdvanceAsync(string sink, string owner, long sequence, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Reads the sequence of the last checkpoint the sink's receiver acknowledged (0 before the first, or without a cursor).</summary>
    Task<long> ReadCheckpointCursorAsync(string sink, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the sink's checkpoint cursor to <paramref name="sequence"/> and renews the lease, like
    /// <see cref="AdvanceAsync"/>; <see langword="false"/> when <paramref name="owner"/> no longer holds the lease.
    /// </summary>
    Task<bool> AdvanceCheckpointsAsync(string sink, string owner, long sequence, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Records a failed delivery (bounded text), when <paramref name="owner"/> holds the lease.</summary>
    Task RecordFailureAsync(string sink, string owner, string error, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives the lease up (at shutdown), so another instance takes over at once.</summary>
    Task ReleaseAsync(string sink, string owner, CancellationToken cancellationToken);
}
