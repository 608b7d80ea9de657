using Gateway.Core.Audit;
using Gateway.Core.Limits;
using Gateway.Data;
using Gateway.Data.Stores;

namespace Gateway.Web.Limits;

/// <summary>
/// Exchanges this instance's usage counts with the database every <see cref="LimitOptions.SyncInterval"/> (on SQLite
/// only while there is something to exchange; an idle instance sleeps until a call is counted or the file changes): adds what
/// was counted here since the last exchange, reads back every instance's totals, and reports its calls in flight and
/// reads back the other live instances'. Loads the totals before the gateway
/// serves (a restart keeps the day's count) and exchanges once more when it stops (nothing counted here is lost).
/// </summary>
/// <remarks>
/// A failed exchange keeps the changes for the next one and the instance goes on deciding on what it knows: the
/// limits stay in force on each instance, only the others' calls are seen later.
/// </remarks>
internal sealed partial class UsageCounterSync(
    UsageCounters counters,
    IUsageCounterStore store,
    GatewayInstance instance,
    GatewayDatabase database,
    IDatabaseCommits databaseCommits,
    LimitOptions options,
    TimeProvider time,
    ILogger<UsageCounterSync> logger) : BackgroundService
{
    // On SQLite the change watch sees every commit to the file (PRAGMA data_version), another instance's counts
    // included: while this instance has nothing to add and the file has not changed, the totals it holds are the
    // stored ones, and an exchange would only read them again (two queries a second took an idle gateway from 0.4% to
    // 1.5% of a core). PostgreSQL's watch hears only the tables that notify, which the counters do not.
    private readonly bool _skipUnchanged = database.Provider == DatabaseProvider.Sqlite;
    private long _seenVersion = -1;

    // The instance's id is 12 hex digits: its number fits a column of Unix seconds and counts alike.
    private readonly long _instance = Convert.ToInt64(instance.Id, 16);
    private long _prunedMinute;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ExchangeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await ExchangeAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.SyncInterval, time, stoppingToken);

                // Armed before the exchange looks, so a call counted while it runs is not missed by the wait below.
                var counted = counters.NextCountAsync();
                if (!await ExchangeAsync(stoppingToken))
                {
                    await IdleAsync(counted, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync makes the last exchange.
        }
    }

    /// <summary>
    /// Nothing counted here and the file unchanged: sleeps until a call is counted or the change watch sees a commit,
    /// instead of waking every interval to find the same.
    /// </summary>
    private async Task IdleAsync(Task counted, CancellationToken stoppingToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var changed = databaseCommits.WaitForCommitAsync(_seenVersion, idle.Token);
        await Task.WhenAny(counted, changed);
        await idle.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// One exchange, and once a minute the removal of windows that ended more than a minute ago. Returns
    /// <see langword="false"/> when it was skipped: on SQLite, nothing counted here and the file unchanged.
    /// </summary>
    internal async Task<bool> ExchangeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minute = UsageWindow.StartOf(UsageWindow.Minute, now);
        var changes = counters.TakeChanges(now);
        var version = databaseCommits.Version;
        if (_skipUnchanged && changes.Count == 0 && version == _seenVersion && counters.InFlightUnchanged())
        {
            return false;
        }

        try
        {
            var totals = await store.ExchangeAsync(changes, minute, UsageWindow.StartOf(UsageWindow.Day, now), cancellationToken);
            counters.Merge(totals, time.GetUtcNow());
        }
        catch (Exception ex)
        {
            counters.Restore(changes, time.GetUtcNow());
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogExchangeFailed(logger, ex, changes.Count);
            return true;
        }

        // Calls in flight: this instance's changed counts out, the other live instances' back. An instance unseen for
        // three intervals (at least 3 s) no longer counts: it was killed, its calls with it.
        var (changed, holdsAny) = counters.TakeInFlight();
        try
        {
            var seconds = now.ToUnixTimeSeconds();
            var alive = (long)Math.Ceiling(Math.Max(3, 3 * options.SyncInterval.TotalSeconds));
            counters.MergeInFlight(await store.ExchangeInFlightAsync(_instance, changed, holdsAny, seconds, seconds - alive, cancellationToken));
            _seenVersion = version;
        }
        catch (Exception ex)
        {
            counters.RestoreInFlight(changed);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogExchangeFailed(logger, ex, changed.Count);
            return true;
        }

        if (minute != _prunedMinute)
        {
            try
            {
                await store.PruneAsync(minute - UsageWindow.Minute, cancellationToken);
                _prunedMinute = minute;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPruneFailed(logger, ex);
            }
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exchanging usage counts with the database failed; {Changes} change(s) kept for the next exchange. Limits are enforced on what this instance knows meanwhile.")]
    private static partial void LogExchangeFailed(ILogger logger, Exception exception, int changes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing ended usage windows from the database failed; tried again next minute.")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
