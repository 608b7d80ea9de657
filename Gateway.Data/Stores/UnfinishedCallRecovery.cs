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
/// </remarks>
internal sealed partial class UnfinishedCallRecovery(IDbContextFactory<GatewayDbContext> factory, GatewayDatabase database, IAuditSink audit, TimeProvider time, ILogger<UnfinishedCallRecovery> logger) : IHostedService
{
    /// <summary>The application name prefix of every PostgreSQL connection of a gateway (followed by its instance id).</summary>
    public const string ApplicationNamePrefix = "mcp-gateway/";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
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

        if (count > 0)
        {
            LogRecovered(count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
}
