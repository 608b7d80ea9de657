using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;

namespace Gateway.Data.Sqlite;

/// <summary>
/// Copies the audit writer's write-ahead log back into the database on a connection of its own, beside the writer
/// instead of inside one of its commits.
/// </summary>
/// <remarks>
/// SQLite's automatic checkpoint runs in the <c>COMMIT</c> that finds the log past 1,000 pages: that commit also copies
/// the pages into the database file and fsyncs it. Under a sequential load (2026-12-02, strace) that was one commit in
/// about 110 calls, and it took 6-7 ms (5 ms copying, 1-1.5 ms the database's fsync) on the call whose <c>started</c>
/// entry it was, a tail on about one call in a hundred. The writer's connection now only checkpoints as a backstop (<see cref="BackstopPages"/>,
/// if this falls behind); every <see cref="EveryRecords"/> appended records a <c>PASSIVE</c> checkpoint runs here, which
/// takes no lock a writer waits for (SQLite keeps appending to the log while it copies) and never waits itself: what a
/// reader still needs is left for the next one. Durability is unchanged: a committed frame is in the log, which SQLite
/// recovers after a crash whether or not it was copied.
/// </remarks>
internal sealed partial class SqliteWalCheckpointer(string connectionString, ILogger? logger = null) : IAsyncDisposable
{
    /// <summary>
    /// Appended records between two checkpoints: about 1,500 log pages at the 7-8 pages a one-entry commit writes (the
    /// table, the five indexes every entry enters, the AUTOINCREMENT sequence).
    /// </summary>
    public const int EveryRecords = 200;

    /// <summary>The writer's own automatic checkpoint, only reached when the background one cannot keep up.</summary>
    public const int BackstopPages = 4_000;

    // Each pass copies what the writer appended during the one before; a writer faster than the copy is left to the backstop.
    private const int MaxPasses = 8;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private int _sinceLast;
    private Task _running = Task.CompletedTask;
    private long _checkpoints;

    /// <summary>Gets how many checkpoints copied the whole log, so that the next commit starts it over (tests).</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Counts appended records; starts a checkpoint when enough were and none is running. Called by the one writer.</summary>
    public void Appended(int records)
    {
        _sinceLast += records;
        if (_sinceLast < EveryRecords || !_running.IsCompleted)
        {
            return;
        }

        _sinceLast = 0;

        // On the thread pool: SQLite's calls block (the copy and an fsync), and the writer's caller is a call on its way upstream.
        _running = Task.Run(Checkpoint);
    }

    public async ValueTask DisposeAsync() => await _running;

    private void Checkpoint()
    {
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();

            // A connection that has read nothing has not found the log yet: SQLite would report "not in WAL mode" (-1).
            var rc = raw.sqlite3_exec(connection.Handle, "PRAGMA schema_version;");
            if (rc != raw.SQLITE_OK)
            {
                LogCheckpointFailed(_logger, rc, raw.sqlite3_errmsg(connection.Handle).utf8_to_string());
                return;
            }

            // The raw call, not the pragma through a command: Microsoft.Data.Sqlite would retry a busy result in ~150 ms
            // sleeps, and a checkpoint that finds another one running has nothing to wait for. The log starts over from
            // its beginning (instead of growing) only at a commit that finds every frame copied, so the frames appended
            // during a pass are copied by the next, fewer each time, until none are left or the passes run out.
            for (var pass = 0; pass < MaxPasses; pass++)
            {
                rc = raw.sqlite3_wal_checkpoint_v2(connection.Handle, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out var frames, out var copied);
                if (rc == raw.SQLITE_BUSY)
                {
                    return;
                }

                if (rc != raw.SQLITE_OK)
                {
                    LogCheckpointFailed(_logger, rc, raw.sqlite3_errmsg(connection.Handle).utf8_to_string());
                    return;
                }

                if (copied >= frames && frames >= 0)
                {
                    Interlocked.Increment(ref _checkpoints);
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            // Not the writer's failure: the log keeps every commit, and the writer's backstop checkpoints if this keeps failing.
            LogCheckpointThrew(_logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpointing the audit database's write-ahead log failed (SQLite code {Code}: {Message}); the next checkpoint tries again.")]
    private static partial void LogCheckpointFailed(ILogger logger, int code, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpointing the audit database's write-ahead log failed; the next checkpoint tries again.")]
    private static partial void LogCheckpointThrew(ILogger logger, Exception exception);
}
