using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Data.Postgres;

/// <summary>
/// Appends audit batches to PostgreSQL: a batch is one round trip when no other writer appended since this appender's
/// last batch, and at most three (plus the commit's) when one did, whatever the number of gateway instances writing.
/// </summary>
/// <remarks>
/// <para>
/// <b>One gap-free chain, many writers.</b> Each batch takes a transaction-scoped advisory lock
/// (<see cref="ChainLock"/>) before it touches the chain, so the instances' writers (and admin changes, which append in
/// their own transactions) take turns, and the lock is released by the commit or the rollback itself, also when the
/// connection dies. Inside an instance the batching sink already groups concurrent calls into one batch (group commit),
/// so the lock is taken once per batch, not per call.
/// </para>
/// <para>
/// <b>Linked to a guess, checked under the lock.</b> The entries are linked to the head this appender last left (its
/// sequence and hash) and sent in one pipelined batch: the lock, then one statement that writes the calls in flight and
/// the rows only if that guess is still the head, and returns the head it found. Right, the batch's implicit transaction
/// commits at its end: one round trip. Wrong (another writer appended), nothing was written, and the batch is sent again
/// linked to the head it found, in an explicit transaction that keeps the lock: if a third writer slipped in between, the
/// head found under that lock cannot move, and the third send links to it. The hashes are computed again for each send,
/// on the client, as before.
/// </para>
/// <para>
/// <b>Durability per transaction.</b> <c>set_config('synchronous_commit', …, true)</c>: <c>on</c> waits for the server's
/// WAL flush (the <c>started</c> entry before the upstream sees the call); <c>off</c> returns once the server has the
/// commit in memory (visible to every reader, safe from a crash of this process; the server flushes it within its
/// <c>wal_writer_delay</c>, or at the next durable commit, which covers all earlier WAL). A send that wrote nothing
/// commits no transaction id, so it waits for no flush.
/// </para>
/// </remarks>
internal sealed class PostgresAuditAppender(string connectionString) : IAuditAppender
{
    /// <summary>The advisory lock key that serializes appends to the chain (any constant; "audit" in ASCII).</summary>
    public const long ChainLock = 0x6175646974;

    private const string Columns = "\"Sequence\", \"Timestamp\", \"Kind\", \"Actor\", \"Server\", \"Tool\", \"Decision\", \"Rule\", \"Outcome\", \"DurationMs\", \"Error\", \"ArgumentsSha256\", \"ArgumentsRedacted\", \"CallId\", \"PreviousHash\", \"Hash\", \"ResultSha256\", \"Findings\"";

    // One statement, so one plan and one snapshot (taken after the lock was granted) for all of it: whether the guess is
    // still the head (the last sequence is the guess's, with its hash; a NULL hash, left by a version before the chain,
    // links as the genesis does; an empty table is the genesis's head), the calls in flight and the rows, each written
    // only if it is, and the head before them, read under the lock. The calls ended and started are disjoint
    // (CallsInFlightChanges nets them), so the two changes to CallsInFlight never meet on a row.
    private const string Append =
        $"""
        WITH guess AS (
            SELECT COALESCE((SELECT max("Sequence") FROM "AuditEntries"), 0) = @headSequence
                AND (@headSequence = 0 OR EXISTS (SELECT 1 FROM "AuditEntries" WHERE "Sequence" = @headSequence AND COALESCE("Hash", @genesis) = @headHash)) AS holds
        ), ended AS (
            DELETE FROM "CallsInFlight" WHERE "CallId" = ANY(@ended) AND (SELECT holds FROM guess)
        ), started AS (
            INSERT INTO "CallsInFlight" ("CallId", "Sequence") SELECT * FROM unnest(@started, @startedAt) WHERE (SELECT holds FROM guess)
            ON CONFLICT ("CallId") DO UPDATE SET "Sequence" = excluded."Sequence"
        ), appended AS (
            INSERT INTO "AuditEntries" ({Columns})
            SELECT * FROM unnest(@seq, @ts, @kind, @actor, @server, @tool, @decision, @rule, @outcome, @duration, @error, @args, @redacted, @call, @prev, @hash, @result, @findings)
            WHERE (SELECT holds FROM guess)
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM appended), head."Sequence", head."Hash"
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT "Sequence", "Hash" FROM "AuditEntries" ORDER BY "Sequence" DESC LIMIT 1) AS head ON true
        """;

    private NpgsqlDataSource? _source;

    // The chain's head as this appender's last append left it: what the next append links to first (null: not known).
    private volatile ChainHead? _head;

    public async Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken)
    {
        _source ??= Open(connectionString);
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        try
        {
            // First, one round trip: the batch linked to the head this appender last saw, in the implicit transaction of
            // one pipelined batch, which appends only if that is still the head.
            var guess = _head ?? ChainHead.Genesis;
            var (appended, head) = await TryAppendAsync(connection, transaction: null, records, durable, guess, cancellationToken);
            if (!appended)
            {
                // Another writer (instance, or an admin change) appended since. Again in a transaction that keeps the lock
                // after the batch: the head the batch read back under it cannot move, so a second miss links to it for sure.
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                (appended, head) = await TryAppendAsync(connection, transaction, records, durable, head, cancellationToken);
                if (!appended)
                {
                    (appended, head) = await TryAppendAsync(connection, transaction, records, durable, head, cancellationToken);
                }

                if (!appended)
                {
                    throw new InvalidOperationException($"The audit chain's head moved while its lock was held (now {head.Sequence}).");
                }

                await transaction.CommitAsync(cancellationToken);
            }

            _head = head;
            return head.Sequence;
        }
        catch
        {
            // Unknown whether it committed: the next append reads the head rather than guess.
            _head = null;
            throw;
        }
    }

    /// <summary>
    /// One round trip: set the commit's durability, take the chain's lock, then in one statement append the records linked
    /// to <paramref name="guess"/> and change the calls in flight, only if <paramref name="guess"/> is still the head.
    /// </summary>
    /// <returns>Whether the records were appended, and the head: the last record's when they were, else the one found.</returns>
    private static async Task<(bool Appended, ChainHead Head)> TryAppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<AuditRecord> records, bool durable, ChainHead guess, CancellationToken cancellationToken)
    {
        // All rows in one statement: arrays of each column, unnested server-side (one plan).
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
        var (sequence, previous) = (guess.Sequence, guess.Hash);
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

        var (started, startedAt, ended) = CallsInFlightChanges.Of(entries);
        await using var batch = new NpgsqlBatch(connection, transaction);

        // The setting and the lock last until the transaction ends: at the batch's end (its one Sync) when it has no
        // explicit transaction, else at the commit. set_config(…, true) holds for the current transaction whether or not
        // it began with BEGIN (PostgresAuditAppenderTests.TheDurabilitySetting_HoldsForTheBatchAlone); SET LOCAL is
        // documented for transaction blocks only.
        batch.BatchCommands.Add(new($"SELECT set_config('synchronous_commit', '{(durable ? "on" : "off")}', true)"));
        batch.BatchCommands.Add(new($"SELECT pg_advisory_xact_lock({ChainLock})"));

        var append = new NpgsqlBatchCommand(Append);
        append.Parameters.Add(new NpgsqlParameter<long[]>("startedAt", startedAt));
        append.Parameters.Add(new NpgsqlParameter<long[]>("seq", seq));
        append.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = ts });
        append.Parameters.Add(new NpgsqlParameter<double[]>("duration", duration));
        (string Name, string?[] Values)[] texts =
        [
            ("ended", ended), ("started", started), ("kind", kind), ("actor", actor), ("server", server), ("tool", tool), ("decision", decision),
            ("rule", rule), ("outcome", outcome), ("error", error), ("args", args), ("redacted", redacted), ("call", call), ("prev", prev),
            ("hash", hash), ("result", result), ("findings", findings),
        ];
        foreach (var (name, values) in texts)
        {
            append.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values });
        }

        append.Parameters.Add(new NpgsqlParameter<long>("headSequence", guess.Sequence));
        append.Parameters.Add(new NpgsqlParameter<string>("headHash", guess.Hash));
        append.Parameters.Add(new NpgsqlParameter<string>("genesis", AuditChain.Genesis));
        batch.BatchCommands.Add(append);

        // The setting and the lock give a row each; the append one: how many rows it wrote, and the head before them.
        long written = 0;
        var before = ChainHead.Genesis;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.NextResultAsync(cancellationToken))
            {
                if (reader.FieldCount == 3 && await reader.ReadAsync(cancellationToken))
                {
                    written = reader.GetInt64(0);
                    before = reader.IsDBNull(1) ? ChainHead.Genesis : new ChainHead(reader.GetInt64(1), reader.IsDBNull(2) ? AuditChain.Genesis : reader.GetString(2));
                }
            }
        }

        if (written == 0)
        {
            return (false, before);
        }

        if (written != count || before != guess)
        {
            throw new InvalidOperationException($"The audit append wrote {written} of {count} entries after head {before.Sequence}, linked to {guess.Sequence}.");
        }

        return (true, new ChainHead(sequence, previous));
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

        // One round trip: the batch's implicit transaction takes an id and commits at the batch's end, durably.
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { new("SELECT set_config('synchronous_commit', 'on', true)"), new("SELECT pg_current_xact_id()") },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
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

    private sealed record ChainHead(long Sequence, string Hash)
    {
        public static readonly ChainHead Genesis = new(0, AuditChain.Genesis);
    }
}
