using Gateway.Core.Audit;
using Gateway.Data.Configurations;
using Gateway.Data.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SQLitePCL;
using static Gateway.Data.Sqlite.SqliteStatements;

namespace Gateway.Data.Sqlite;

/// <summary>
/// Appends audit batches to SQLite over one long-lived connection with SQLite's own prepared statements: a batch costs
/// <c>BEGIN IMMEDIATE</c>, one indexed read of the head, one insert per record (and per call started or ended, its
/// row in <c>CallsInFlight</c>) and the commit, nothing else.
/// </summary>
/// <remarks>
/// Durability is chosen per commit with <c>PRAGMA synchronous</c>, which SQLite lets a connection change between
/// transactions: <c>FULL</c> makes the commit fsync the write-ahead log, <c>NORMAL</c> only appends to it (the
/// operating system holds it, so a killed gateway loses nothing). An fsync of the log covers every frame before it, so
/// one durable commit also makes the earlier non-durable ones durable, and the log's checksums make a torn tail
/// after a power loss end at a commit boundary: the chain on disk is always a gap-free prefix.
/// <see cref="SyncAsync"/> fsyncs the log file directly, without a transaction. The log is copied back into the database
/// beside the writer, not in its commits (<see cref="SqliteWalCheckpointer"/>).
/// </remarks>
internal sealed class SqliteAuditAppender(string connectionString, ILogger? logger = null) : IAuditAppender
{
    // Positional parameters: the statements are SQLite's own prepared statements, bound by index. Through
    // Microsoft.Data.Sqlite's commands every execution looked each of the 18 parameters up by name (a UTF-8 copy of the
    // name each) and made a binder per parameter: ~6 KiB and most of the writer's CPU per call, on the critical path.
    private const string InsertSql = """
        INSERT INTO AuditEntries (Sequence, Timestamp, Kind, Actor, Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId, PreviousHash, Hash, ResultSha256, Findings)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
        """;

    private const string HeadSql = "SELECT Sequence, Hash FROM AuditEntries ORDER BY Sequence DESC LIMIT 1";

    // The calls in flight, kept in the entries' transaction (CallsInFlightChanges): one small table's page per commit.
    private const string StartSql = "INSERT INTO CallsInFlight (CallId, Sequence) VALUES (?1, ?2) ON CONFLICT (CallId) DO UPDATE SET Sequence = excluded.Sequence";
    private const string EndSql = "DELETE FROM CallsInFlight WHERE CallId = ?1";

    private SqliteConnection? _connection;
    private sqlite3_stmt? _begin;
    private sqlite3_stmt? _commit;
    private sqlite3_stmt? _head;
    private sqlite3_stmt? _insert;
    private sqlite3_stmt? _start;
    private sqlite3_stmt? _end;
    // The log's path (known from the first open on, kept when a failure drops the connection: the frames it appended
    // are still the log's to sync) and its handle for SyncAsync, which may run beside an append (the sink's window
    // sync): they are shared with it under _walGate; everything else here is the writer's alone.
    private readonly Lock _walGate = new();
    private string? _walPath;
    private FileStream? _wal;
    private bool? _full;
    private readonly SqliteWalCheckpointer _checkpointer = new(connectionString, logger);

    /// <summary>Gets how many background checkpoints ran to the end.</summary>
    public long Checkpoints => _checkpointer.Checkpoints;

    public async Task<long> AppendAsync(IReadOnlyList<AuditRecord> records, bool durable, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await OpenAsync(cancellationToken);
            await SetSynchronousAsync(connection, durable, cancellationToken);
            var db = connection.Handle!;

            // BEGIN IMMEDIATE: the write lock is taken before the head is read, so no other writer (another gateway on the
            // same file) can append between our read of the head and our commit. A failure anywhere below rolls the
            // transaction back and drops the connection (catch, DisposeAsync).
            Run(db, _begin!);
            long sequence = 0;
            var previous = AuditChain.Genesis;
            var rc = raw.sqlite3_step(_head);
            if (rc == raw.SQLITE_ROW)
            {
                sequence = raw.sqlite3_column_int64(_head, 0);
                previous = raw.sqlite3_column_type(_head, 1) == raw.SQLITE_NULL ? AuditChain.Genesis : raw.sqlite3_column_text(_head, 1).utf8_to_string();
            }
            else
            {
                Check(db, rc);
            }

            raw.sqlite3_reset(_head);
            foreach (var record in records)
            {
                var entry = AuditChain.Link(++sequence, previous, AuditChain.Normalize(record));
                Bind(db, _insert!, entry, previous);
                Run(db, _insert!);
                if (CallsInFlightChanges.Starts(record))
                {
                    Text(db, _start!, 1, record.CallId);
                    Check(db, raw.sqlite3_bind_int64(_start, 2, entry.Sequence));
                    Run(db, _start!);
                }
                else if (CallsInFlightChanges.Ends(record))
                {
                    Text(db, _end!, 1, record.CallId);
                    Run(db, _end!);
                }

                previous = entry.Hash!;
            }

            Run(db, _commit!);
            _checkpointer.Appended(records.Count);
            return sequence;
        }
        catch
        {
            // Whatever broke (a full disk, a locked file, a closed connection), the next batch starts on a fresh connection.
            await DisposeAsync();
            throw;
        }
    }

    public Task SyncAsync(CancellationToken cancellationToken)
    {
        FileStream? wal;
        lock (_walGate)
        {
            // No path: nothing was ever appended here.
            wal = _wal ??= _walPath is null ? null : OpenWal(_walPath);
        }

        if (wal is null)
        {
            return Task.CompletedTask;
        }

        try
        {
            // fsync(2) on the log's inode: the frames the NORMAL commits appended before it are on disk when it returns.
            // It may run while the writer appends more (they are the next sync's); SQLite's calls are synchronous too.
            wal.Flush(flushToDisk: true);
            return Task.CompletedTask;
        }
        catch
        {
            // The next sync opens the log again (a new connection may have found a new log file).
            lock (_walGate)
            {
                if (ReferenceEquals(_wal, wal))
                {
                    _wal = null;
                }
            }

            wal.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _checkpointer.DisposeAsync();
        _full = null;
        FileStream? wal;
        lock (_walGate)
        {
            (wal, _wal) = (_wal, null);
        }

        if (wal is not null)
        {
            await wal.DisposeAsync();
        }

        // A batch that failed between BEGIN and COMMIT left its transaction open: roll it back here, since the
        // connection goes back to Microsoft.Data.Sqlite's pool, where the next user must not inherit it.
        if (_connection?.Handle is { } db)
        {
            if (raw.sqlite3_get_autocommit(db) == 0)
            {
                raw.sqlite3_exec(db, "ROLLBACK");
            }

            // Nor the writer's checkpoint setting: the pool's next user checkpoints as SQLite does by default.
            raw.sqlite3_wal_autocheckpoint(db, 1000);
        }

        // Statements first: a connection with live statements would only become a zombie when closed.
        foreach (var statement in (ReadOnlySpan<sqlite3_stmt?>)[_begin, _commit, _head, _insert, _start, _end])
        {
            statement?.Dispose();
        }

        (_begin, _commit, _head, _insert, _start, _end) = (null, null, null, null, null, null);
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
        try
        {
            await using (var pragma = connection.CreateCommand())
            {
                // busy_timeout: another instance on the same file may hold the write lock; SQLite retries in small steps.
                pragma.CommandText = "PRAGMA busy_timeout=10000;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            var db = connection.Handle!;

            // The commits leave checkpoints to the checkpointer; this is the backstop should it fall behind.
            Check(db, raw.sqlite3_wal_autocheckpoint(db, SqliteWalCheckpointer.BackstopPages));
            _begin = Prepare(db, "BEGIN IMMEDIATE");
            _commit = Prepare(db, "COMMIT");
            _head = Prepare(db, HeadSql);
            _insert = Prepare(db, InsertSql);
            _start = Prepare(db, StartSql);
            _end = Prepare(db, EndSql);
            _connection = connection;
            lock (_walGate)
            {
                _walPath = connection.DataSource + "-wal";
            }

            return connection;
        }
        catch
        {
            _connection = connection;
            await DisposeAsync();
            throw;
        }
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

    /// <summary>Runs a statement that returns no rows, and resets it for its next use (also when it failed).</summary>
    private static void Run(sqlite3 db, sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            Check(db, rc);
        }
    }

    private static void Bind(sqlite3 db, sqlite3_stmt insert, AuditChainEntry entry, string previous)
    {
        var r = entry.Record;
        Check(db, raw.sqlite3_bind_int64(insert, 1, entry.Sequence));
        Check(db, raw.sqlite3_bind_int64(insert, 2, AuditColumns.ToColumn(r.Timestamp)));
        Text(db, insert, 3, r.Kind);
        Text(db, insert, 4, r.Actor);
        Text(db, insert, 5, r.Server);
        Text(db, insert, 6, r.Tool);
        Text(db, insert, 7, r.Decision);
        Text(db, insert, 8, r.Rule);
        Text(db, insert, 9, r.Outcome);
        Check(db, raw.sqlite3_bind_double(insert, 10, r.DurationMs));
        Text(db, insert, 11, r.Error);
        Text(db, insert, 12, r.ArgumentsSha256);
        Text(db, insert, 13, r.ArgumentsRedacted);
        Text(db, insert, 14, r.CallId);
        Text(db, insert, 15, previous);
        Text(db, insert, 16, entry.Hash);
        Text(db, insert, 17, r.ResultSha256);
        Text(db, insert, 18, r.Findings);
    }

    // UTF-16 straight from the string (SQLite copies it): no UTF-8 array per value.
    private static void Text(sqlite3 db, sqlite3_stmt insert, int index, string? value) =>
        Check(db, value is null ? raw.sqlite3_bind_null(insert, index) : raw.sqlite3_bind_text16(insert, index, value.AsSpan()));

    private static FileStream? OpenWal(string path)
    {
        // Opened for writing only because FileStream.Flush(true) fsyncs writable streams; nothing is ever written
        // through it. Shared with SQLite, and reopened with the connection (a new connection may find a new log file).
        return File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1)
            : null;
    }
}
