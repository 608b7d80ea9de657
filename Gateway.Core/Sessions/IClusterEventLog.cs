namespace Gateway.Core.Sessions;

/// <summary>
/// Facts every instance sharing the database must hear of, that no stored state says (a session its client ended on
/// one instance, an upstream's lists that changed as one instance saw): appended by the instance that saw it, read by the
/// others in order after the change watch wakes them, and dropped after their expiry (so the log stays bounded).
/// </summary>
public interface IClusterEventLog
{
    /// <summary>Appends <paramref name="clusterEvent"/>.</summary>
    Task PublishAsync(ClusterEvent clusterEvent, CancellationToken cancellationToken);

    /// <summary>The unexpired events after <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<(long Id, ClusterEvent Event)>> ReadAfterAsync(long after, int limit, CancellationToken cancellationToken);

    /// <summary>The id of the newest event (0 when there is none): where a starting instance begins to listen.</summary>
    Task<long> HeadAsync(CancellationToken cancellationToken);
}

/// <summary>Something <paramref name="Origin"/> saw that concerns <paramref name="Subject"/>.</summary>
/// <param name="Origin">The instance that saw it (it does not act on its own events).</param>
/// <param name="Kind">What happened, e.g. <c>session-ended</c>; at most 32 characters.</param>
/// <param name="Subject">What it happened to (a session id, a server name); at most 200 characters.</param>
/// <param name="ExpiresAt">After this nobody needs it.</param>
public sealed record ClusterEvent(string Origin, string Kind, string Subject, DateTimeOffset ExpiresAt);
