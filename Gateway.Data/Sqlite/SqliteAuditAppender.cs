using Gateway.Core.Audit;
using Gateway.Data.Configurations;
using Gateway.Data.Stores;
using Microsoft.Data.Sqlite;

namespace Gateway.Data.Sqlite;

/// <summary>
/// Appends audit batches to SQLite over one long-lived connection with prepared statements: a batch costs
/// <c>BEGIN IMMEDIATE</c>, one indexed read of the head, one insert per record and the commit, nothing else.
/// </summary>
/// <remarks>
/// Durability is chosen per commit with <c>PRAGMA synchronous</c>, which SQLite lets a connection change between
/// transactions: <c>FULL</c> makes the commit fsync the write-ahead log, <c>NORMAL</c> only appends to it (the
/// operating system holds it, so a killed gateway loses nothing). An fsync of the log covers every frame before it, so
/// one durable commit also makes the earlier non-durable ones durable, and the log's checksums make a torn tail
/// after a power loss end at a commit boundary: the chain on disk is always a gap-free prefix.
/// <see cref="SyncAsync"/> fsyncs the log file directly, without a transaction.
/// </remarks>
internal sealed class SqliteAuditAppender(string connectionString) : IAuditAppender
{
    private const string InsertSql = """
        INSERT INTO AuditEntries (Sequence, Timestamp, Kind, Actor, Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId, PreviousHash, Hash, ResultSha256, Findings)
        VALUES ($seq, $ts, $kind, $actor, $server, $tool, $decision, $rule, $outcome, $duration, $error, $args, $redacted, $call, $prev, $hash, $result, $findings)
        """;

    private SqliteConnection? _connection;
    private SqliteCommand _head = null!;
    private SqliteCommand _insert = null!;
    private SqliteParameter[] _p = null!;
    private FileStream? _wal;
    private bool? _full;

    public async Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await OpenAsync(cancellationToken);
            await SetSynchronousAsync(connection, durable, cancellationToken);

            // BEGIN IMMEDIATE: the write lock is taken before the head is read, so no other writer (another gateway on the
            // same file) can append between our read of the head and our commit.
            await using var transaction = connection.BeginTransaction(deferred: false);
            _head.Transaction = transaction;
            _insert.Transaction = transaction;
            long sequence = 0;
            var previous = AuditChain.Genesis;
            await using (var reader = await _head.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    sequence = reader.GetInt64(0);
                    previous = reader.IsDBNull(1) ? AuditChain.Genesis : reader.GetString(1);
                }
            }

            foreach (var record in records)
            {
                var entry = AuditChain.Link(++sequence, previous, AuditChain.Normalize(record));
                Bind(entry, previous);
                await _insert.ExecuteNonQueryAsync(cancellationToken);
                previous = entry.Hash!;
            }

            await transaction.CommitAsync(cancellationToken);
            return sequence;
        }
        catch
        {
            // Whatever broke (a full disk, a locked file, a closed connection), the next batch starts on a fresh connection.
            await DisposeAsync();
            throw;
        }
    }

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            return;
        }

        try
        {
            _wal ??= OpenWal();
            if (_wal is not null)
            {
                // fsync(2) on the log's inode: the frames the NORMAL commits appended are on disk when it returns. On
                // the writer's own task, like the commits (SQLite's calls are synchronous too): no extra hand-off.
                _wal.Flush(flushToDisk: true);
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _full = null;
        if (_wal is not null)
        {
            await _wal.DisposeAsync();
            _wal = null;
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            return _connection;
        }

        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var pragma = connection.CreateCommand())
        {
            // busy_timeout: another instance on the same file may hold the write lock; SQLite retries in small steps.
            pragma.CommandText = "PRAGMA busy_timeout=10000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }

        _head = connection.CreateCommand();
        _head.CommandText = "SELECT Sequence, Hash FROM AuditEntries ORDER BY Sequence DESC LIMIT 1";
        _insert = connection.CreateCommand();
        _insert.CommandText = InsertSql;
        _p = new[] { "$seq", "$ts", "$kind", "$actor", "$server", "$tool", "$decision", "$rule", "$outcome", "$duration", "$error", "$args", "$redacted", "$call", "$prev", "$hash", "$result", "$findings" }
            .Select(name => _insert.Parameters.Add(new SqliteParameter { ParameterName = name }))
            .ToArray();
        _head.Prepare();
        _insert.Prepare();
        _connection = connection;
        return connection;
    }

    private async Task SetSynchronousAsync(SqliteConnection connection, bool full, CancellationToken cancellationToken)
    {
        if (_full == full)
        {
            return;
        }

        await using var pragma = connection.CreateCommand();
        pragma.CommandText = full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        _full = full;
    }

    private void Bind(AuditChainEntry entry, string previous)
    {
        var r = entry.Record;
        _p[0].Value = entry.Sequence;
        _p[1].Value = AuditColumns.ToColumn(r.Timestamp);
        _p[2].Value = r.Kind;
        _p[3].Value = r.Actor;
        _p[4].Value = (object?)r.Server ?? DBNull.Value;
        _p[5].Value = (object?)r.Tool ?? DBNull.Value;
        _p[6].Value = r.Decision;
        _p[7].Value = (object?)r.Rule ?? DBNull.Value;
        _p[8].Value = r.Outcome;
        _p[9].Value = r.DurationMs;
        _p[10].Value = (object?)r.Error ?? DBNull.Value;
        _p[11].Value = (object?)r.ArgumentsSha256 ?? DBNull.Value;
        _p[12].Value = (object?)r.ArgumentsRedacted ?? DBNull.Value;
        _p[13].Value = (object?)r.CallId ?? DBNull.Value;
        _p[14].Value = previous;
        _p[15].Value = entry.Hash;
        _p[16].Value = (object?)r.ResultSha256 ?? DBNull.Value;
        _p[17].Value = (object?)r.Findings ?? DBNull.Value;
    }

    private FileStream? OpenWal()
    {
        var path = _connection!.DataSource + "-wal";

        // Opened for writing only because FileStream.Flush(true) fsyncs writable streams; nothing is ever written
        // through it. Shared with SQLite, and reopened with the connection (a new connection may find a new log file).
        return File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1)
            : null;
    }
}
