using Microsoft.EntityFrameworkCore;

namespace Gateway.Data;

/// <summary>
/// The migrations a database has applied, read with one plain query. EF Core's own reader (its history repository)
/// builds a model of the history table with the full convention set at its first use: about 70 ms of CPU at every
/// start, only to learn that nothing is pending. A database without the table, or lacking a migration, takes EF Core's
/// path (see GatewayDatabaseInitializer).
/// </summary>
internal static class MigrationHistory
{
    /// <summary>A query answering whether the database has EF Core's history table (a boolean the engine's way).</summary>
    public static string TableExistsSql(DatabaseProvider provider) => provider == DatabaseProvider.Postgres
        ? "SELECT to_regclass('\"__EFMigrationsHistory\"') IS NOT NULL"
        : "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory')";

    /// <summary>Reads the applied migration ids, or null when the database has no history table.</summary>
    public static async Task<IReadOnlySet<string>?> ReadAsync(GatewayDbContext db, CancellationToken cancellationToken)
    {
        var provider = db.Database.Engine();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = TableExistsSql(provider);
            if (!Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture))
            {
                return null;
            }

            command.CommandText = "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"";
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }

            return applied;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
