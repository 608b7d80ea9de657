using Microsoft.EntityFrameworkCore;

namespace Gateway.Data;

/// <summary>
/// The migrations a database has applied, read with one plain query. EF Core's own reader (its history repository)
/// builds a model of the history table with the full convention set at its first use: about 70 ms of CPU at every
/// start, only to learn that nothing is pending. Anything unexpected returns null and EF Core's path decides.
/// </summary>
internal static class MigrationHistory
{
    /// <summary>Reads the applied migration ids, or null when the database has no history table (or it cannot be read).</summary>
    public static async Task<IReadOnlySet<string>?> ReadAsync(GatewayDbContext db, CancellationToken cancellationToken)
    {
        var postgres = db.Database.IsNpgsql();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = postgres
                ? "SELECT to_regclass('\"__EFMigrationsHistory\"') IS NOT NULL"
                : "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory')";
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
