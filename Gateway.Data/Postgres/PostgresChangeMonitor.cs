using Gateway.Data.Stores;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.Data.Postgres;

/// <summary>
/// Pushes changes made by any instance to this one with PostgreSQL's <c>LISTEN/NOTIFY</c>: statement triggers on the
/// configuration tables notify <see cref="Channel"/> when their transaction commits, and one long-lived connection
/// here waits for them. No query runs while nothing changes, and a change reaches every instance in one network hop.
/// </summary>
/// <remarks>
/// A safety net covers what notifications cannot: a change is also reported every <see cref="ReconcileInterval"/>, and
/// after the listening connection was lost (notifications sent meanwhile are gone), once it is back.
/// </remarks>
internal sealed partial class PostgresChangeMonitor(string connectionString, TimeProvider time, ILogger<PostgresChangeMonitor> logger)
    : BackgroundService, IDatabaseChanges, IDatabaseCommits
{
    /// <summary>The notification channel the migration's triggers notify.</summary>
    public const string Channel = "gateway_changes";

    /// <summary>How often a change is reported even when none was notified.</summary>
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ChangeSignal _signal = new();

    public long Version => _signal.Version;

    public Task<long> WaitForChangeAsync(long seen, CancellationToken cancellationToken) => _signal.WaitForChangeAsync(seen, cancellationToken);

    // The audit entries' followers poll on PostgreSQL (its audit tables notify nobody): they see the same reports.
    public Task<long> WaitForCommitAsync(long seen, CancellationToken cancellationToken) => _signal.WaitForChangeAsync(seen, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // The listener is not a pooled worker: it holds its connection for the life of the process.
            Pooling = false,
            KeepAlive = 15,
        };

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ToString());
                connection.Notification += (_, _) => _signal.Signal();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Listening from here on: whatever changed before (the snapshots' first loads, a reconnect's gap) is reported now.
                _signal.Signal();
                while (true)
                {
                    // WaitAsync returns false on timeout: the periodic reconciliation.
                    if (!await connection.WaitAsync(ReconcileInterval, stoppingToken))
                    {
                        _signal.Signal();
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                LogWatchFailed(ex);
                _signal.Signal();
                try
                {
                    await Task.Delay(RetryDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for database changes failed; snapshots re-read the database, and the listener reconnects.")]
    private partial void LogWatchFailed(Exception exception);
}
