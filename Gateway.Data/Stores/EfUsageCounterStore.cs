using System.Data.Common;
using Gateway.Core.Limits;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gateway.Data.Stores;

/// <summary>
/// The shared usage counts. Each change is an upsert that adds to the stored count (<c>count = count + change</c>),
/// never a read-modify-write, so instances exchanging at the same moment cannot lose each other's calls; SQLite
/// (3.24+) and PostgreSQL share the statement.
/// </summary>
/// <remarks>
/// Calls in flight live in the same table under two spans of their own, so windows and instances share one schema:
/// <see cref="InFlightSpan"/> rows hold an instance's current count per counter (<c>WindowStart</c> = the instance's
/// number; set, not added), and one <see cref="AliveSpan"/> row per instance holds when it last said it was alive
/// (<c>Count</c> = Unix seconds). An instance's rows count only while it is seen alive; a killed one's stop counting,
/// and are pruned with the ended windows.
/// <para>
/// The exchanges commit without waiting for the disk (<see cref="RunAsync"/>): counts are not evidence, and
/// under load they commit twice a second. On SQLite a commit that fsyncs holds the file's one write lock through the
/// flush, so a call's durable audit commit that came at that moment waited in SQLite's busy handler (1-2 ms sleeps,
/// seen with strace) and the disk flushed twice more a second. An unsynced commit is in the operating system at once
/// (a killed gateway loses nothing) and on disk with the next durable commit of any connection, the audit's included;
/// a power loss can take the last second's counts back, never a recorded call.
/// </para>
/// </remarks>
internal sealed class EfUsageCounterStore(IDbContextFactory<GatewayDbContext> factory) : IUsageCounterStore
{
    /// <summary>The span of a row holding an instance's calls in flight for one counter.</summary>
    internal const int InFlightSpan = -1;

    /// <summary>The span of an instance's sign of life (agent 0, no rule).</summary>
    internal const int AliveSpan = -2;

    private const string SetInFlight = """
        INSERT INTO "UsageCounters" ("AgentId", "Rule", "Span", "WindowStart", "Count") VALUES (@agent, @rule, @span, @instance, @count)
        ON CONFLICT ("AgentId", "Rule", "Span", "WindowStart") DO UPDATE SET "Count" = excluded."Count"
        """;

    private const string ClearInFlight = """
        DELETE FROM "UsageCounters" WHERE "AgentId" = @agent AND "Rule" = @rule AND "Span" = @span AND "WindowStart" = @instance
        """;

    private const string OthersInFlight = """
        SELECT f."AgentId", f."Rule", CAST(SUM(f."Count") AS BIGINT) FROM "UsageCounters" f
        JOIN "UsageCounters" a ON a."AgentId" = 0 AND a."Rule" = '' AND a."Span" = @alive AND a."WindowStart" = f."WindowStart"
        WHERE f."Span" = @inFlight AND f."WindowStart" <> @instance AND a."Count" >= @aliveSince
        GROUP BY f."AgentId", f."Rule"
        """;

    private const string PruneInstances = """
        DELETE FROM "UsageCounters" WHERE "Span" IN (@inFlight, @alive) AND "WindowStart" NOT IN
            (SELECT "WindowStart" FROM "UsageCounters" WHERE "AgentId" = 0 AND "Rule" = '' AND "Span" = @alive AND "Count" >= @before)
        """;

    private const string Upsert = """
        INSERT INTO "UsageCounters" ("AgentId", "Rule", "Span", "WindowStart", "Count") VALUES (@agent, @rule, @span, @start, @count)
        ON CONFLICT ("AgentId", "Rule", "Span", "WindowStart") DO UPDATE SET "Count" = "UsageCounters"."Count" + excluded."Count"
        """;

    private const string Totals = """
        SELECT "AgentId", "Rule", "Span", "WindowStart", "Count" FROM "UsageCounters"
        WHERE ("Span" = @minuteSpan AND "WindowStart" = @minute) OR ("Span" = @daySpan AND "WindowStart" = @day)
        """;

    // Only a batch with changes takes the write lock (SQLite) or writes; the totals alone are one read.
    public Task<IReadOnlyList<UsageCount>> ExchangeAsync(IReadOnlyCollection<UsageCount> changes, long minute, long day, CancellationToken cancellationToken) =>
        RunAsync(changes.Count > 0, (connection, dbTransaction) => ExchangeAsync(connection, dbTransaction, changes, minute, day, cancellationToken), cancellationToken);

    private static async Task<IReadOnlyList<UsageCount>> ExchangeAsync(DbConnection connection, DbTransaction? dbTransaction, IReadOnlyCollection<UsageCount> changes, long minute, long day, CancellationToken cancellationToken)
    {
        if (changes.Count > 0)
        {
            await using var upsert = Command(connection, dbTransaction, Upsert);
            var (agent, rule, span, start, count) = (upsert.Add("@agent", 0L), upsert.Add("@rule", string.Empty), upsert.Add("@span", 0), upsert.Add("@start", 0L), upsert.Add("@count", 0L));

            // One order on every instance: two transactions upserting the same rows cannot deadlock on PostgreSQL.
            foreach (var change in changes.OrderBy(c => c.Window.Key.AgentId).ThenBy(c => c.Window.Key.Rule, StringComparer.Ordinal).ThenBy(c => c.Window.Span).ThenBy(c => c.Window.Start))
            {
                (agent.Value, rule.Value, span.Value, start.Value, count.Value) = (change.Window.Key.AgentId, change.Window.Key.Rule, change.Window.Span, change.Window.Start, change.Count);
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        var totals = new List<UsageCount>();
        await using (var read = Command(connection, dbTransaction, Totals))
        {
            read.Add("@minuteSpan", UsageWindow.Minute);
            read.Add("@minute", minute);
            read.Add("@daySpan", UsageWindow.Day);
            read.Add("@day", day);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = new CounterKey(reader.GetInt64(0), reader.GetString(1));
                totals.Add(new UsageCount(new UsageWindow(key, reader.GetInt32(2), reader.GetInt64(3)), reader.GetInt64(4)));
            }
        }

        return totals;
    }

    // Writes only when something changed or calls are held (the sign of life): an idle gateway only reads.
    public Task<IReadOnlyList<InFlightCount>> ExchangeInFlightAsync(long instance, IReadOnlyCollection<InFlightCount> changed, bool holdsAny, long now, long aliveSince, CancellationToken cancellationToken) =>
        RunAsync(changed.Count > 0 || holdsAny, (connection, dbTransaction) => ExchangeInFlightAsync(connection, dbTransaction, instance, changed, holdsAny, now, aliveSince, cancellationToken), cancellationToken);

    private static async Task<IReadOnlyList<InFlightCount>> ExchangeInFlightAsync(DbConnection connection, DbTransaction? dbTransaction, long instance, IReadOnlyCollection<InFlightCount> changed, bool holdsAny, long now, long aliveSince, CancellationToken cancellationToken)
    {
        if (holdsAny)
        {
            await using var alive = Command(connection, dbTransaction, SetInFlight);
            alive.Add("@agent", 0L);
            alive.Add("@rule", string.Empty);
            alive.Add("@span", AliveSpan);
            alive.Add("@instance", instance);
            alive.Add("@count", now);
            await alive.ExecuteNonQueryAsync(cancellationToken);
        }

        if (changed.Count > 0)
        {
            await using var set = Command(connection, dbTransaction, SetInFlight);
            var (agent, rule, _, _, count) = (set.Add("@agent", 0L), set.Add("@rule", string.Empty), set.Add("@span", InFlightSpan), set.Add("@instance", instance), set.Add("@count", 0L));
            await using var clear = Command(connection, dbTransaction, ClearInFlight);
            var (clearAgent, clearRule) = (clear.Add("@agent", 0L), clear.Add("@rule", string.Empty));
            clear.Add("@span", InFlightSpan);
            clear.Add("@instance", instance);

            // One order on every instance, as for the windows.
            foreach (var change in changed.OrderBy(c => c.Key.AgentId).ThenBy(c => c.Key.Rule, StringComparer.Ordinal))
            {
                if (change.Count > 0)
                {
                    (agent.Value, rule.Value, count.Value) = (change.Key.AgentId, change.Key.Rule, change.Count);
                    await set.ExecuteNonQueryAsync(cancellationToken);
                }
                else
                {
                    (clearAgent.Value, clearRule.Value) = (change.Key.AgentId, change.Key.Rule);
                    await clear.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }

        var others = new List<InFlightCount>();
        await using (var read = Command(connection, dbTransaction, OthersInFlight))
        {
            read.Add("@alive", AliveSpan);
            read.Add("@inFlight", InFlightSpan);
            read.Add("@instance", instance);
            read.Add("@aliveSince", aliveSince);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                others.Add(new InFlightCount(new CounterKey(reader.GetInt64(0), reader.GetString(1)), reader.GetInt64(2)));
            }
        }

        return others;
    }

    public async Task PruneAsync(long before, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.UsageCounters.Where(c => c.Span > 0 && c.WindowStart + c.Span < before).ExecuteDeleteAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var prune = Command(db.Database.GetDbConnection(), null, PruneInstances);
        prune.Add("@inFlight", InFlightSpan);
        prune.Add("@alive", AliveSpan);
        prune.Add("@before", before);
        await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Runs an exchange on one connection: with <paramref name="writes"/>, in a transaction whose commit does not wait
    /// for the disk (see the remarks), else without a transaction. SQLite's <c>synchronous</c> is per connection and
    /// fixed for a transaction, so it is set before <c>BEGIN</c> and set back to FULL however the exchange ends (the
    /// pooled connection goes on to others); PostgreSQL's <c>SET LOCAL synchronous_commit</c> lasts only the transaction.
    /// </summary>
    private async Task<T> RunAsync<T>(bool writes, Func<DbConnection, DbTransaction?, Task<T>> exchange, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        if (!writes)
        {
            return await exchange(connection, null);
        }

        var sqlite = !db.Database.IsPostgres();
        if (sqlite)
        {
            await Execute(connection, null, "PRAGMA synchronous=NORMAL", cancellationToken);
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (!sqlite)
            {
                await Execute(connection, transaction.GetDbTransaction(), "SET LOCAL synchronous_commit = off", cancellationToken);
            }

            var result = await exchange(connection, transaction.GetDbTransaction());
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            if (sqlite)
            {
                // Not cancellable: a connection left at NORMAL would make the next user's commits undurable.
                await Execute(connection, null, "PRAGMA synchronous=FULL", CancellationToken.None);
            }
        }
    }

    private static async Task Execute(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }
}
