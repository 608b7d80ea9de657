using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data;

/// <summary>
/// Creates the schema of an empty database with one script instead of running the migrations one by one. The script
/// (<c>Migrations/&lt;engine&gt;/FreshDatabase.sql</c>, <c>dotnet ef migrations script</c> of the whole history, regenerated
/// by <c>add-migration.sh</c>) runs the same statements and records the same history rows; what it saves is EF Core
/// building each migration's target model to generate them, which was about a fifth of a first start's CPU. A database
/// with any history takes the migrations as before, so upgrades are unchanged.
/// </summary>
internal static class FreshDatabase
{
    /// <summary>Any fixed key: instances starting together on one empty PostgreSQL database take turns on it.</summary>
    private const long PostgresLockKey = 0x6761_7465_7761_7901;

    /// <summary>Gets the script of an engine's whole migration history.</summary>
    internal static string Script(DatabaseProvider provider)
    {
        using var stream = typeof(FreshDatabase).Assembly.GetManifestResourceStream($"FreshDatabase.{provider}.sql")
            ?? throw new InvalidOperationException($"FreshDatabase.{provider}.sql is not embedded in Gateway.Data.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Runs the script when the database has no migration history, in one transaction that holds the engine's write
    /// lock (SQLite's <c>BEGIN IMMEDIATE</c>, a PostgreSQL advisory lock) and looks again under it, so of instances
    /// starting together one creates the schema and the others find it. False when the database has a history
    /// table, or the script does not end with <paramref name="lastMigrationId"/>: the migrations run instead.
    /// </summary>
    internal static async Task<bool> TryCreateAsync(GatewayDbContext db, string lastMigrationId, CancellationToken cancellationToken)
    {
        var provider = db.Database.Engine();
        var script = Script(provider);
        if (!script.Contains($"'{lastMigrationId}'", StringComparison.Ordinal))
        {
            return false;
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (provider == DatabaseProvider.Postgres)
            {
                await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({PostgresLockKey})", cancellationToken);
            }

            if (Convert.ToBoolean(await ExecuteAsync(connection, transaction, MigrationHistory.TableExistsSql(provider), cancellationToken), System.Globalization.CultureInfo.InvariantCulture))
            {
                return false;
            }

            await ExecuteAsync(connection, transaction, script, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<object?> ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}
