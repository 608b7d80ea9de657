namespace Gateway.Core.Sessions;

/// <summary>
/// What may happen only once across every instance sharing the database: a sealed requestState opened, a task's end
/// recorded. An instance's memory cannot decide it, since an agent's retry (or a poll) may reach any instance.
/// </summary>
public interface ISingleUseLedger
{
    /// <summary>The longest key taken (a prefix and a nonce or call id).</summary>
    const int MaxKeyLength = 128;

    /// <summary>
    /// Takes <paramref name="key"/>: true for the first taker across the instances, false for every later one until
    /// <paramref name="expires"/> (after which the key is forgotten, so the ledger stays bounded: keys must be unique
    /// and whatever they guard must be refused by then on its own).
    /// </summary>
    Task<bool> TryTakeAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken);

    /// <summary>
    /// Takes <paramref name="key"/> as <see cref="TryTakeAsync"/> does, without waiting for the mark to reach the disk:
    /// it survives the gateway's crash, but not the database server's (PostgreSQL) or a power loss (SQLite) in the
    /// moment after. For marks whose loss costs little, taken so often that a flush each would cost the most.
    /// </summary>
    Task<bool> TryTakeUnflushedAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken);
}
