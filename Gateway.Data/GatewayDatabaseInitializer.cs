using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data;

/// <summary>
/// Applies migrations at startup (an empty database gets them as one script, <see cref="FreshDatabase"/>) and sets the
/// SQLite journal to WAL. Registered first, so every other hosted service
/// starts on a current schema.
/// </summary>
internal sealed partial class GatewayDatabaseInitializer(IDbContextFactory<GatewayDbContext> factory, ILogger<GatewayDatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (!db.Database.IsPostgres())
        {
            // WAL is persistent in the file: readers never block the writer, and commits stay durable with synchronous=FULL.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        // The ids the build recorded, not EF Core's scan of the assembly (MigrationIds); an upgrade below still runs EF Core's migrations.
        var all = MigrationIds.Of(db.Database.Engine());
        var applied = await MigrationHistory.ReadAsync(db, cancellationToken);
        if (applied is not null && all.All(applied.Contains))
        {
            // Every start after the first: nothing to apply, known without EF Core's history model (see MigrationHistory).
            LogMigrated(0, db.Database.GetDbConnection().DataSource);
            return;
        }

        // No history table: an empty database. EF Core is not asked what is pending there: on PostgreSQL its history
        // reader queries the missing table and logs the failure as an error at every first start.
        if (applied is null && all.Count > 0 && await FreshDatabase.TryCreateAsync(db, all[^1], cancellationToken))
        {
            LogCreated(all.Count, db.Database.GetDbConnection().DataSource);
            return;
        }

        // A database with a history (or one another instance has just created): EF Core's migrations.
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();

        if (pending.Count > 0)
        {
            // Only when there is something to apply: a least-privilege runtime role (no DDL rights, see the README) then
            // starts on a database its owner has migrated. EF Core serializes concurrent migrators (instances starting together).
            await db.Database.MigrateAsync(cancellationToken);
        }

        LogMigrated(pending.Count, db.Database.GetDbConnection().DataSource);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database created ({Applied} migrations applied as one script) at {DataSource}.")]
    private partial void LogCreated(int applied, string dataSource);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready ({Applied} migrations applied) at {DataSource}.")]
    private partial void LogMigrated(int applied, string dataSource);
}
