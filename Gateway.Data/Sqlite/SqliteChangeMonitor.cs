using Gateway.Data.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SQLitePCL;

namespace Gateway.Data.Sqlite;

/// <summary>
/// Watches the SQLite file with <c>PRAGMA data_version</c> on one long-lived connection: the value changes whenever
/// another connection, in this process or another one sharing the file, committed. One pragma per
/// <paramref name="interval"/> replaces every snapshot's periodic re-read. A commit is reported to
/// <see cref="IDatabaseCommits"/> (the audit entries' followers); only when the change counter the watched tables'
/// triggers keep (<see cref="SqliteSchema"/>) moved too is it reported to <see cref="IDatabaseChanges"/>, which wakes
/// every snapshot: a busy gateway commits its audit trail all the time, and re-read every snapshot once a second for it.
/// </summary>
/// <remarks>
/// Also reports a change after any failure of its own connection, so nothing is left stale because the watch broke.
/// Nothing else: the pragma misses no commit, and every reader retries a read of its own that failed (the snapshots and
/// the approval relay through <c>DatabaseChangeLoop</c>, the checkpoint service and the instance mailbox with the same
/// backoff). A periodic report "just in case" woke every snapshot every 5 minutes to re-read what had not changed, and
/// kept the JIT compiling those paths for the first hours of an idle gateway.
/// </remarks>
internal sealed partial class SqliteChangeMonitor(string connectionString, TimeSpan interval, TimeProvider time, ILogger<SqliteChangeMonitor> logger)
    : BackgroundService, IDatabaseChanges, IDatabaseCommits
{
    private readonly ChangeSignal _signal = new();
    private readonly ChangeSignal _commits = new();

    public long Version => _signal.Version;

    long IDatabaseCommits.Version => _commits.Version;

    public Task<long> WaitForChangeAsync(long seen, CancellationToken cancellationToken) => _signal.WaitForChangeAsync(seen, cancellationToken);

    public Task<long> WaitForCommitAsync(long seen, CancellationToken cancellationToken) => _commits.WaitForChangeAsync(seen, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SqliteConnection? connection = null;
        sqlite3_stmt? pragma = null;
        sqlite3_stmt? counter = null;
        long? last = null;
        long? lastCounter = null;
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(connectionString);
                        await connection.OpenAsync(stoppingToken);
                        pragma = Prepare(connection, "PRAGMA data_version;");
                        counter = Prepare(connection, CounterQuery);
                    }

                    // The first look signals too: a change committed after a snapshot's initial load and before the
                    // watch's first value would otherwise be taken as the baseline and never reported. The counter is
                    // read only after a commit: an idle gateway runs one pragma per interval, as before.
                    var current = ReadInt64(pragma!);
                    if (last != current)
                    {
                        last = current;
                        var changes = ReadInt64(counter!);
                        if (lastCounter != changes)
                        {
                            lastCounter = changes;
                            _signal.Signal();
                        }

                        _commits.Signal();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogWatchFailed(ex);
                    counter?.Dispose();
                    pragma?.Dispose();
                    connection?.Dispose();
                    (connection, pragma, counter, last, lastCounter) = (null, null, null, null, null);
                    _signal.Signal();
                    _commits.Signal();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            counter?.Dispose();
            pragma?.Dispose();
            connection?.Dispose();
        }
    }

    /// <summary>
    /// The pragma (and the counter's query) as a bare SQLite statement, stepped directly: the look runs every second for
    /// the life of the process, and through ADO.NET each one built a data reader, a task and a boxed value for one integer.
    /// </summary>
    private static sqlite3_stmt Prepare(SqliteConnection connection, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        return statement;
    }

    private const string CounterQuery = $"SELECT \"{SqliteSchema.CounterColumn}\" FROM \"{SqliteSchema.CounterTable}\";";

    private static long ReadInt64(sqlite3_stmt statement)
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            return rc == raw.SQLITE_ROW
                ? raw.sqlite3_column_int64(statement, 0)
                : throw new SqliteException($"The change watch's look returned no row (SQLite result {rc}).", rc);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching the database for changes failed; snapshots re-read it, and the watch reconnects.")]
    private partial void LogWatchFailed(Exception exception);
}
