namespace Gateway.Core.Limits;

/// <summary>
/// The counts every instance shares (the <c>UsageCounters</c> table): each instance adds what it counted since its
/// last exchange and reads back the totals, in batches, never per call.
/// </summary>
public interface IUsageCounterStore
{
    /// <summary>
    /// Adds <paramref name="changes"/> to the stored counts (a window's first change creates it), then reads the totals
    /// of every counter's windows that start at <paramref name="minute"/> and <paramref name="day"/>; one transaction.
    /// </summary>
    Task<IReadOnlyList<UsageCount>> ExchangeAsync(IReadOnlyCollection<UsageCount> changes, long minute, long day, CancellationToken cancellationToken);

    /// <summary>Deletes the windows that ended before <paramref name="before"/> (Unix seconds): the table stays as small as the live windows.</summary>
    Task PruneAsync(long before, CancellationToken cancellationToken);
}
