using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.Data;

/// <summary>
/// The test PostgreSQL server is real and durable: a fresh database opens, it is PostgreSQL, fsync is on (the data
/// tests measure commits that reach the disk, which a server started with fsync off would only pretend to do), and the
/// database is gone after it is dropped.
/// </summary>
public sealed class PostgresServerSmokeTests
{
    [SkippableFact]
    public async Task FreshDatabase_IsDurablePostgreSql_AndIsGoneAfterDrop()
    {
        PostgresServer.SkipUnlessAvailable();
        var connectionString = await PostgresServer.CreateDatabaseAsync("smoke");
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(TestContext.Timeout);
            Assert.Equal(name, connection.Database);
            Assert.StartsWith("gw_smoke_", name, StringComparison.Ordinal);

            await using var fsync = new NpgsqlCommand("SHOW fsync", connection);
            Assert.Equal("on", await fsync.ExecuteScalarAsync(TestContext.Timeout));

            await using var version = new NpgsqlCommand("SELECT version()", connection);
            Assert.StartsWith("PostgreSQL", (string?)await version.ExecuteScalarAsync(TestContext.Timeout), StringComparison.Ordinal);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(connectionString);
        }

        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync(TestContext.Timeout);
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", admin);
        exists.Parameters.AddWithValue("name", name!);
        Assert.Equal(0L, await exists.ExecuteScalarAsync(TestContext.Timeout));
    }
}
