using Gateway.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Tests.Support;

/// <summary>An empty database of either engine (a new SQLite file, a new PostgreSQL database), dropped on disposal.</summary>
internal sealed class EmptyDatabase : IAsyncDisposable
{
    private EmptyDatabase(GatewayDatabase database) => Database = database;

    public GatewayDatabase Database { get; }

    public static async Task<EmptyDatabase> CreateAsync(DatabaseProvider provider) =>
        new(provider == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres(await PostgresServer.CreateDatabaseAsync("empty"))
            : GatewayDatabase.Sqlite($"Data Source={AuditDatabase.NewPath()};Pooling=False"));

    /// <summary>A context on it, configured as the gateway configures its own.</summary>
    public GatewayDbContext Context()
    {
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        Database.Configure(options);
        return new GatewayDbContext(options.Options);
    }

    public async ValueTask DisposeAsync()
    {
        if (Database.Provider == DatabaseProvider.Postgres)
        {
            await PostgresServer.DropDatabaseAsync(Database.ConnectionString);
        }
        else
        {
            SqliteConnection.ClearAllPools();
            File.Delete(new SqliteConnectionStringBuilder(Database.ConnectionString).DataSource);
        }
    }
}
