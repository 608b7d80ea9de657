using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Data.Postgres;

/// <summary>
/// Appends audit batches to PostgreSQL over one long-lived connection: a batch is one round trip for the lock and the
/// head, one for the rows and one for the commit, whatever the number of gateway instances writing.
/// </summary>
/// <remarks>
/// <para>
/// <b>One gap-free chain, many writers.</b> Each batch takes a transaction-scoped advisory lock
/// (<see cref="ChainLock"/>) before it reads the head, so the instances' writers take turns: the sequence and the
/// previous hash a batch links to cannot change until it commits, and the lock is released by the commit or the
/// rollback itself, also when the connection dies. Inside an instance the batching sink already groups concurrent
/// calls into one batch (group commit), so the lock is taken once per batch, not per call.
/// </para>
/// <para>
/// <b>Durability per transaction.</b> <c>SET LOCAL synchronous_commit</c>: <c>on</c> waits for the server's WAL flush
/// (the <c>started</c> entry before the upstream sees the call); <c>off</c> returns once the server has the commit in
/// memory (visible to every reader, safe from a crash of this process; the server flushes it within its
/// <c>wal_writer_delay</c>, or at the next durable commit, which covers all earlier WAL).
/// </para>
/// </remarks>
internal sealed class PostgresAuditAppender(string connectionString) : IAuditAppender
{
    /// <summary>The advisory lock key that serializes appends to the chain (any constant; "audit" in ASCII).</summary>
    public const long ChainLock = 0x6175646974;

    private const string Columns = "\"Sequence\", \"Timestamp\", \"Kind\", \"Actor\", \"Server\", \"Tool\", \"Decision\", \"Rule\", \"Outcome\", \"DurationMs\", \"Error\", \"ArgumentsSha256\", \"ArgumentsRedacted\", \"CallId\", \"PreviousHash\", \"Hash\", \"ResultSha256\", \"Findings\"";

    private NpgsqlDataSource? _source;

    public async Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken)
    {
        _source ??= Open(connectionString);
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        long sequence = 0;
        var previous = AuditChain.Genesis;
        await using (var head = new NpgsqlBatch(connection, transaction))
        {
            head.BatchCommands.Add(new($"SET LOCAL synchronous_commit = {(durable ? "on" : "off")}"));
            head.BatchCommands.Add(new($"SELECT pg_advisory_xact_lock({ChainLock})"));
            head.BatchCommands.Add(new("SELECT \"Sequence\", \"Hash\" FROM \"AuditEntries\" ORDER BY \"Sequence\" DESC LIMIT 1"));
            // Separate statements, so the head is read under a snapshot taken after the lock was granted (in READ
            // COMMITTED each statement takes its own); one round trip all the same.
            await using var reader = await head.ExecuteReaderAsync(cancellationToken);
            while (reader.FieldCount != 2 && await reader.NextResultAsync(cancellationToken))
            {
            }

            if (reader.FieldCount == 2 && await reader.ReadAsync(cancellationToken))
            {
                sequence = reader.GetInt64(0);
                previous = reader.IsDBNull(1) ? AuditChain.Genesis : reader.GetString(1);
            }
        }

        // All rows in one statement: arrays of each column, unnested server-side (one round trip, one plan).
        var count = records.Count;
        var seq = new long[count];
        var ts = new DateTimeOffset[count];
        var kind = new string[count];
        var actor = new string[count];
        var server = new string?[count];
        var tool = new string?[count];
        var decision = new string[count];
        var rule = new string?[count];
        var outcome = new string[count];
        var duration = new double[count];
        var error = new string?[count];
        var args = new string?[count];
        var redacted = new string?[count];
        var call = new string?[count];
        var prev = new string[count];
        var hash = new string[count];
        var result = new string?[count];
        var findings = new string?[count];
        var entries = new AuditChainEntry[count];
        for (var i = 0; i < count; i++)
        {
            var entry = entries[i] = AuditChain.Link(++sequence, previous, AuditChain.Normalize(records[i]));
            var r = entry.Record;
            (seq[i], ts[i], kind[i], actor[i], server[i], tool[i], decision[i], rule[i], outcome[i]) =
                (entry.Sequence, r.Timestamp.ToUniversalTime(), r.Kind, r.Actor, r.Server, r.Tool, r.Decision, r.Rule, r.Outcome);
            (duration[i], error[i], args[i], redacted[i], call[i], prev[i], hash[i], result[i]) =
                (r.DurationMs, r.Error, r.ArgumentsSha256, r.ArgumentsRedacted, r.CallId, previous, entry.Hash!, r.ResultSha256);
            findings[i] = r.Findings;
            previous = entry.Hash!;
        }

        // The calls in flight change in the same statement text (empty arrays change nothing): still one round trip.
        var (started, startedAt, ended) = CallsInFlightChanges.Of(entries);
        await using (var insert = new NpgsqlCommand(
            $"""
            INSERT INTO "AuditEntries" ({Columns})
            SELECT * FROM unnest(@seq, @ts, @kind, @actor, @server, @tool, @decision, @rule, @outcome, @duration, @error, @args, @redacted, @call, @prev, @hash, @result, @findings);
            DELETE FROM "CallsInFlight" WHERE "CallId" = ANY(@ended);
            INSERT INTO "CallsInFlight" ("CallId", "Sequence") SELECT * FROM unnest(@started, @startedAt)
            ON CONFLICT ("CallId") DO UPDATE SET "Sequence" = excluded."Sequence"
            """,
            connection,
            transaction))
        {
            Text(insert, "ended", ended);
            Text(insert, "started", started);
            insert.Parameters.Add(new NpgsqlParameter<long[]>("startedAt", startedAt));
            insert.Parameters.Add(new NpgsqlParameter<long[]>("seq", seq));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = ts });
            Text(insert, "kind", kind);
            Text(insert, "actor", actor);
            Text(insert, "server", server);
            Text(insert, "tool", tool);
            Text(insert, "decision", decision);
            Text(insert, "rule", rule);
            Text(insert, "outcome", outcome);
            insert.Parameters.Add(new NpgsqlParameter<double[]>("duration", duration));
            Text(insert, "error", error);
            Text(insert, "args", args);
            Text(insert, "redacted", redacted);
            Text(insert, "call", call);
            Text(insert, "prev", prev);
            Text(insert, "hash", hash);
            Text(insert, "result", result);
            Text(insert, "findings", findings);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return sequence;
    }

    /// <summary>
    /// Makes every earlier commit durable: a transaction that takes an id commits with <c>synchronous_commit=on</c>,
    /// and its commit record's flush covers all WAL before it.
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        // May run beside an append (the sink's window sync): its own pooled connection, the data source read once.
        if (_source is not { } source)
        {
            return;
        }

        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand("SET LOCAL synchronous_commit = on; SELECT pg_current_xact_id();", connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
            _source = null;
        }
    }

    private static NpgsqlDataSource Open(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);

        // The same few statements on every batch: prepared once per physical connection, planned once.
        builder.ConnectionStringBuilder.MaxAutoPrepare = Math.Max(builder.ConnectionStringBuilder.MaxAutoPrepare, 8);
        return builder.Build();
    }

    private static void Text(NpgsqlCommand command, string name, string?[] values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values });
}
