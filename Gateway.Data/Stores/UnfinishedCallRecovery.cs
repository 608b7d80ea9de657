using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// At startup, completes the calls a previous run forwarded but never recorded the end of (a crash or kill -9 between
/// the two entries) with an <see cref="AuditOutcomes.Unknown"/> entry: the chain is append-only, so the started entry
/// stays and the record of what happened is a new entry with the same call id.
/// </summary>
/// <remarks>
/// The calls are read from <c>CallsInFlight</c>, which the audit appenders keep in the entries' own transaction
/// (<see cref="CallsInFlightChanges"/>): the work is that of the calls in flight, whatever the audit table's size. It
/// used to search the whole table for started entries without an end, 0.5-0.9 s at each start on a million entries.
/// Runs before the gateway accepts calls. With several instances on one PostgreSQL database, the calls of instances
/// that are running (a connection named after their instance id is open) are left to them; a killed instance's are
/// recovered. Several processes on one SQLite file cannot see each other: there a restarting instance also marks
/// calls in flight on the others, and their real completion follows as a later entry.
/// <para>
/// Instances starting together after a crash take turns on PostgreSQL (<see cref="RecoveryLock"/>): each holds the lock
/// from its read of <c>CallsInFlight</c> until the <c>unknown</c> ends it queued are committed (which takes the calls
/// out), so the next one reads what is left and a dead instance's call gets one end, not one per starting instance.
/// </para>
/// </remarks>
internal sealed partial class UnfinishedCallRecovery(IDbContextFactory<GatewayDbContext> factory, GatewayDatabase database, IAuditSink audit, IAuditFlusher flusher, TimeProvider time, ILogger<UnfinishedCallRecovery> logger) : IHostedService
{
    /// <summary>The application name prefix of every PostgreSQL connection of a gateway (followed by its instance id).</summary>
    public const string ApplicationNamePrefix = "mcp-gateway/";

    /// <summary>The PostgreSQL advisory lock (session level) a recovering instance holds until its ends are committed.</summary>
    public const long RecoveryLock = 0x7265636f766572;

    // How long a starting instance waits for another's recovery (its writer commits within a second or two), and how long
    // the lock is held at most for ends that do not commit (a failing database): then the start goes on as before.
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HoldAtMost = TimeSpan.FromSeconds(60);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var db = await factory.CreateDbContextAsync(cancellationToken);
        var locked = false;
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            locked = database.Provider == DatabaseProvider.Postgres && await LockAsync(db, cancellationToken);
            var count = await RecoverAsync(db, cancellationToken);
            if (count > 0)
            {
                LogRecovered(count);
            }

            if (locked && count > 0)
            {
                // Held until the writer, which starts after this service, has committed the ends; then let go.
                var holder = db;
                db = null;
                _ = ReleaseWhenCommittedAsync(holder);
            }
        }
        finally
        {
            if (db is not null)
            {
                if (locked)
                {
                    await UnlockAsync(db);
                }

                await db.DisposeAsync();
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<int> RecoverAsync(GatewayDbContext db, CancellationToken cancellationToken)
    {
        var live = await LiveInstancesAsync(db, cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"""
            SELECT s."Timestamp", s."Actor", s."Server", s."Tool", s."Decision", s."Rule", s."ArgumentsSha256", s."ArgumentsRedacted", s."CallId"
            FROM "CallsInFlight" f JOIN "AuditEntries" s ON s."Sequence" = f."Sequence"
            ORDER BY s."Sequence"
            """;
        var count = 0;
        await using (var r = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken))
            {
                if (r.GetString(8) is var callId && callId.IndexOf('-', StringComparison.Ordinal) is > 0 and var dash && live.Contains(callId[..dash]))
                {
                    // In flight on an instance that is running: its end comes from there.
                    continue;
                }

                var started = database.Dialect.ReadTimestamp(r, 0);

                // Queued, not awaited: the writer starts after this service; it commits them before any new call's entry.
                await audit.WriteAsync(
                    new AuditRecord
                    {
                        Timestamp = time.GetUtcNow(),
                        Kind = AuditKinds.ToolCall,
                        Actor = r.GetString(1),
                        Server = r.IsDBNull(2) ? null : r.GetString(2),
                        Tool = r.IsDBNull(3) ? null : r.GetString(3),
                        Decision = r.GetString(4),
                        Rule = r.IsDBNull(5) ? null : r.GetString(5),
                        Outcome = AuditOutcomes.Unknown,
                        Error = $"The gateway stopped after forwarding this call (started {AuditChain.FormatTimestamp(started)}) and before recording how it ended.",
                        ArgumentsSha256 = r.IsDBNull(6) ? null : r.GetString(6),
                        ArgumentsRedacted = r.IsDBNull(7) ? null : r.GetString(7),
                        CallId = r.GetString(8),
                    },
                    cancellationToken);
                count++;
            }
        }

        return count;
    }

    private async Task<bool> LockAsync(GatewayDbContext db, CancellationToken cancellationToken)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SET lock_timeout = '{(int)LockWait.TotalMilliseconds}ms'; SELECT pg_advisory_lock({RecoveryLock}); SET lock_timeout = 0";
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (System.Data.Common.DbException ex) when (ex.SqlState == "55P03")
        {
            // Another instance's recovery did not finish in time: recover anyway. A call may then get a second end,
            // never none.
            LogLockNotTaken(LockWait.TotalSeconds);
            return false;
        }
    }

    private async Task ReleaseWhenCommittedAsync(GatewayDbContext db)
    {
        try
        {
            using var deadline = new CancellationTokenSource(HoldAtMost);
            await flusher.FlushAsync(deadline.Token);
        }
        catch (Exception ex)
        {
            // Not committed in time, or the writer stopped: the next instance reads what is left.
            LogNotFlushed(ex.Message);
        }
        finally
        {
            await UnlockAsync(db);
            await db.DisposeAsync();
        }
    }

    private async Task UnlockAsync(GatewayDbContext db)
    {
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = $"SELECT pg_advisory_unlock({RecoveryLock})";
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            // The connection is gone, and with it its session's lock.
            LogNotUnlocked(ex.Message);
        }
    }

    /// <summary>
    /// The instances with a connection open to this PostgreSQL database right now (each holds its change listener for
    /// its whole life; a killed one's connections are gone). On SQLite there is no such view: every unfinished call is
    /// taken as its instance's, which holds for the single instance SQLite is for.
    /// </summary>
    private async Task<HashSet<string>> LiveInstancesAsync(GatewayDbContext db, CancellationToken cancellationToken)
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        if (database.Provider != DatabaseProvider.Postgres)
        {
            return live;
        }

        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '{ApplicationNamePrefix}%' AND pid <> pg_backend_pid()";
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            live.Add(r.GetString(0)[ApplicationNamePrefix.Length..]);
        }

        return live;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} tool calls were forwarded by a previous run without a recorded end; recorded them as 'unknown'.")]
    private partial void LogRecovered(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Another instance's recovery of unfinished calls held its lock for over {Seconds} s; recovering without it (a call may get a second 'unknown' end).")]
    private partial void LogLockNotTaken(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The 'unknown' ends of unfinished calls were not committed within a minute ({Reason}); letting other instances recover what is left.")]
    private partial void LogNotFlushed(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The recovery lock could not be released ({Reason}); it went with its connection.")]
    private partial void LogNotUnlocked(string reason);
}
