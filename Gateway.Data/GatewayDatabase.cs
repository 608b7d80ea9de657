using System.Data.Common;
using Gateway.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Gateway.Data;

/// <summary>The database engines the gateway runs on.</summary>
public enum DatabaseProvider
{
    /// <summary>An embedded SQLite file: one command on a laptop, one instance (or several on one host).</summary>
    Sqlite,

    /// <summary>PostgreSQL: the one source of truth for several instances behind a load balancer.</summary>
    Postgres,
}

/// <summary>
/// Where the gateway's data lives: the engine and its connection string. Everything that talks to the database below
/// EF Core (the audit writer, the chain reader, the change watch) starts from here, so the engine is chosen once.
/// </summary>
public sealed record GatewayDatabase(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>A SQLite database (the connection string names its file).</summary>
    public static GatewayDatabase Sqlite(string connectionString) => new(DatabaseProvider.Sqlite, connectionString);

    /// <summary>A PostgreSQL database (an Npgsql connection string).</summary>
    public static GatewayDatabase Postgres(string connectionString) => new(DatabaseProvider.Postgres, connectionString);

    /// <summary>
    /// The engine for a configured provider name (<c>sqlite</c>, <c>postgres</c>), or, when none is configured, the one
    /// the connection string is written for: Npgsql's <c>Host=</c> key means PostgreSQL.
    /// </summary>
    /// <exception cref="ArgumentException">The provider name is not one of the two.</exception>
    public static DatabaseProvider ProviderFor(string? configuredProvider, string? connectionString)
    {
        if (!string.IsNullOrWhiteSpace(configuredProvider))
        {
            return configuredProvider.Trim().ToLowerInvariant() switch
            {
                "sqlite" => DatabaseProvider.Sqlite,
                "postgres" or "postgresql" or "npgsql" => DatabaseProvider.Postgres,
                _ => throw new ArgumentException($"Gateway:Database:Provider must be 'sqlite' or 'postgres', not '{configuredProvider}'.", nameof(configuredProvider)),
            };
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return DatabaseProvider.Sqlite;
        }

        try
        {
            var keys = new DbConnectionStringBuilder { ConnectionString = connectionString };
            return keys.ContainsKey("Host") || keys.ContainsKey("Server") ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite;
        }
        catch (ArgumentException)
        {
            // Not key=value pairs: let SQLite report what is wrong with it.
            return DatabaseProvider.Sqlite;
        }
    }

    /// <summary>The same PostgreSQL database with connections that carry <paramref name="name"/> as their application name.</summary>
    internal GatewayDatabase WithApplicationName(string name) =>
        Provider == DatabaseProvider.Postgres
            ? this with { ConnectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { ApplicationName = name }.ConnectionString }
            : this;

    /// <summary>Points EF Core at this database, with this engine's migration history.</summary>
    internal DbContextOptionsBuilder Configure(DbContextOptionsBuilder options)
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            options.UseNpgsql(ConnectionString);
        }
        else
        {
            options.UseSqlite(ConnectionString).AddInterceptors(new SqlitePragmaInterceptor());
        }

        return options.ReplaceService<IMigrationsAssembly, ProviderMigrationsAssembly>();
    }

    /// <summary>Gets the SQL that differs between the engines.</summary>
    internal SqlDialect Dialect => Provider == DatabaseProvider.Postgres ? SqlDialect.Postgres : SqlDialect.Sqlite;

    /// <summary>
    /// Opens a plain ADO.NET connection. <paramref name="readOnly"/> is enforced by the engine (SQLite's read-only
    /// mode, PostgreSQL's read-only transactions), so verifying or exporting can never change what it checks.
    /// </summary>
    internal DbConnection OpenConnection(bool readOnly = false)
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (readOnly)
            {
                builder.Options = (builder.Options + " -c default_transaction_read_only=on").Trim();
            }

            var pg = new NpgsqlConnection(builder.ToString());
            pg.Open();
            return pg;
        }

        var sqlite = new SqliteConnectionStringBuilder(ConnectionString);
        if (readOnly)
        {
            sqlite.Mode = SqliteOpenMode.ReadOnly;
            if (!File.Exists(sqlite.DataSource))
            {
                throw new FileNotFoundException($"No audit database at {sqlite.DataSource}.", sqlite.DataSource);
            }
        }

        var connection = new SqliteConnection(sqlite.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Where the database is, without any password: for logs and messages.</summary>
    public string Describe() => Provider == DatabaseProvider.Postgres
        ? new NpgsqlConnectionStringBuilder(ConnectionString) is var b ? $"PostgreSQL {b.Host}:{b.Port}/{b.Database}" : string.Empty
        : $"SQLite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";

    /// <inheritdoc />
    public override string ToString() => Describe();
}
