using Gateway.Core.Audit;
using Gateway.Data.Configurations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// Once, after upgrading a database written before the chain existed: chains its audit entries (they have no hash),
/// in sequence order from the genesis, so the whole trail verifies and new entries link to it. Runs before the writer
/// starts, inside one write transaction that lifts the append-only triggers only for itself.
/// </summary>
internal sealed partial class LegacyAuditChainer(IDbContextFactory<GatewayDbContext> factory, ILogger<LegacyAuditChainer> logger) : IHostedService
{
    private static readonly string[] Triggers =
    [
        "CREATE TRIGGER AuditEntries_NoUpdate BEFORE UPDATE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only'); END;",
        "CREATE TRIGGER AuditEntries_NoDelete BEFORE DELETE ON AuditEntries BEGIN SELECT RAISE(ABORT, 'AuditEntries is append-only'); END;",
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (db.Database.IsPostgres())
        {
            // Only SQLite databases predate the chain: a PostgreSQL one is created chained.
            return;
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await using (var check = connection.CreateCommand())
        {
            // The first entry tells: a database from before the chain has no hash on any entry (the chainer runs before
            // the writer, so nothing is appended to it unchained), and a chained one has one on every entry. One read by
            // the primary key; a search for any hashless entry read the whole table at every start (0.4 s of CPU at a
            // million entries), and would have re-chained, and so hidden, an entry whose hash had been removed.
            check.CommandText = "SELECT Hash IS NULL FROM AuditEntries ORDER BY Sequence LIMIT 1";
            if (await check.ExecuteScalarAsync(cancellationToken) is not 1L)
            {
                return;
            }
        }

        await using var transaction = connection.BeginTransaction(deferred: false);
        var entries = new List<AuditChainEntry>();
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = $"SELECT {AuditChainReader.ColumnList} FROM AuditEntries ORDER BY Sequence";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(AuditChainReader.ReadEntry(reader, SqlDialect.Sqlite));
            }
        }

        await ExecuteAsync(connection, transaction, "DROP TRIGGER IF EXISTS AuditEntries_NoUpdate", cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE AuditEntries SET Sequence = $seq, Timestamp = $ts, PreviousHash = $prev, Hash = $hash WHERE Sequence = $old";
            var seq = update.Parameters.Add(new SqliteParameter { ParameterName = "$seq" });
            var ts = update.Parameters.Add(new SqliteParameter { ParameterName = "$ts" });
            var prev = update.Parameters.Add(new SqliteParameter { ParameterName = "$prev" });
            var hash = update.Parameters.Add(new SqliteParameter { ParameterName = "$hash" });
            var old = update.Parameters.Add(new SqliteParameter { ParameterName = "$old" });
            var previous = AuditChain.Genesis;
            var next = 0L;

            // Renumbered from 1 (the old autoincrement may have gaps): entries keep their order.
            foreach (var entry in entries)
            {
                var record = AuditChain.Normalize(entry.Record);
                var linked = AuditChain.Link(++next, previous, record);
                seq.Value = linked.Sequence;
                ts.Value = AuditColumns.ToColumn(record.Timestamp);
                prev.Value = previous;
                hash.Value = linked.Hash;
                old.Value = entry.Sequence;
                await update.ExecuteNonQueryAsync(cancellationToken);
                previous = linked.Hash!;
            }
        }

        await ExecuteAsync(connection, transaction, Triggers[0], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogChained(entries.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chained {Count} audit entries written before the hash chain existed (one-time upgrade).")]
    private partial void LogChained(int count);
}
