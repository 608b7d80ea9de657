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
internal sealed class EfUsageCounterStore(IDbContextFactory<GatewayDbContext> factory) : IUsageCounterStore
{
    private const string Upsert = """
        INSERT INTO "UsageCounters" ("AgentId", "Rule", "Span", "WindowStart", "Count") VALUES (@agent, @rule, @span, @start, @count)
        ON CONFLICT ("AgentId", "Rule", "Span", "WindowStart") DO UPDATE SET "Count" = "UsageCounters"."Count" + excluded."Count"
        """;

    private const string Totals = """
        SELECT "AgentId", "Rule", "Span", "WindowStart", "Count" FROM "UsageCounters"
        WHERE ("Span" = @minuteSpan AND "WindowStart" = @minute) OR ("Span" = @daySpan AND "WindowStart" = @day)
        """;

    public async Task<IReadOnlyList<UsageCount>> ExchangeAsync(IReadOnlyCollection<UsageCount> changes, long minute, long day, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // Only a batch with changes takes the write lock (SQLite) or writes; the totals alone are one read.
        await using var transaction = changes.Count > 0 ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        var dbTransaction = transaction?.GetDbTransaction();
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

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return totals;
    }

    public async Task PruneAsync(long before, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.UsageCounters.Where(c => c.WindowStart + c.Span < before).ExecuteDeleteAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }
}
