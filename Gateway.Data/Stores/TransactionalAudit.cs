using Gateway.Core.Audit;
using Gateway.Data.Entities;
using Gateway.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gateway.Data.Stores;

/// <summary>
/// Appends audit entries to the chain inside a caller's own write transaction, so a change and its entries commit
/// together or not at all. The chain's lock is taken before the head is read, as the writer's appenders do
/// (<see cref="IAuditAppender"/>): on PostgreSQL their advisory lock, held to the end of the transaction; on SQLite the
/// transaction's own write lock (EF begins SQLite transactions <c>IMMEDIATE</c>). No other append can come between
/// the head read here and the commit.
/// </summary>
internal static class TransactionalAudit
{
    /// <summary>Takes the chain's lock, links <paramref name="records"/> after its head and saves them in the current transaction.</summary>
    public static async Task AppendAsync(GatewayDbContext db, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        if (db.Database.IsPostgres())
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({PostgresAuditAppender.ChainLock})", cancellationToken);
        }

        // The appenders' head read, as a plain command in the transaction: no LINQ query to compile at start-up.
        long sequence = 0;
        var previous = AuditChain.Genesis;
        await using (var head = db.Database.GetDbConnection().CreateCommand())
        {
            head.Transaction = db.Database.CurrentTransaction?.GetDbTransaction() ?? throw new InvalidOperationException("Audit entries are appended inside the caller's transaction.");
            head.CommandText = "SELECT \"Sequence\", \"Hash\" FROM \"AuditEntries\" ORDER BY \"Sequence\" DESC LIMIT 1";
            await using var reader = await head.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                sequence = reader.GetInt64(0);
                previous = reader.IsDBNull(1) ? AuditChain.Genesis : reader.GetString(1);
            }
        }

        foreach (var record in records)
        {
            var entry = AuditChain.Link(++sequence, previous, AuditChain.Normalize(record));
            var r = entry.Record;
            db.AuditEntries.Add(new AuditEntryEntity
            {
                Sequence = entry.Sequence,
                Timestamp = r.Timestamp,
                Kind = r.Kind,
                Actor = r.Actor,
                Server = r.Server,
                Tool = r.Tool,
                Decision = r.Decision,
                Rule = r.Rule,
                Outcome = r.Outcome,
                DurationMs = r.DurationMs,
                Error = r.Error,
                ArgumentsSha256 = r.ArgumentsSha256,
                ArgumentsRedacted = r.ArgumentsRedacted,
                ResultSha256 = r.ResultSha256,
                Findings = r.Findings,
                CallId = r.CallId,
                PreviousHash = previous,
                Hash = entry.Hash,
            });
            previous = entry.Hash!;
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
