namespace Gateway.Core.Limits;

/// <summary>
/// The counts every instance shares (the <c>UsageCounters</c> table): each instance adds what it counted since its
/// last exchange and reads back the totals, and reports its calls in flight and reads back the others', in batches,
/// never per call.
/// </summary>
public interface IUsageCounterStore
{
    /// <summary>
    /// Adds <paramref name="changes"/> to the stored counts (a window's first change creates it), then reads the totals
    /// of every counter's windows that start at <paramref name="minute"/> and <paramref name="day"/>; one transaction.
    /// </summary>
    Task<IReadOnlyList<UsageCount>> ExchangeAsync(IReadOnlyCollection<UsageCount> changes, long minute, long day, CancellationToken cancellationToken);

    /// <summary>
    /// Stores this instance's calls in flight for the counters in <paramref name="changed"/> (a count of 0 removes it),
    /// marks the instance alive at <paramref name="now"/> while it has any stored (Unix seconds), and reads back the calls
    /// in flight on the other instances seen alive since <paramref name="aliveSince"/>, added up per counter.
    /// </summary>
    /// <param name="instance">This instance's number.</param>
    /// <param name="changed">This instance's counts that changed since its last report.</param>
    /// <param name="holdsAny">Whether this instance has any call in flight (then it says it is alive).</param>
    /// <param name="now">Now, Unix seconds.</param>
    /// <param name="aliveSince">The oldest sign of life that still counts: an instance that stopped without saying so
    /// (killed) stops counting after this.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    Task<IReadOnlyList<InFlightCount>> ExchangeInFlightAsync(long instance, IReadOnlyCollection<InFlightCount> changed, bool holdsAny, long now, long aliveSince, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the windows that ended before <paramref name="before"/> (Unix seconds), and the calls in flight of
    /// instances last seen alive before it: the table stays as small as the live windows and instances.
    /// </summary>
    Task PruneAsync(long before, CancellationToken cancellationToken);
}
