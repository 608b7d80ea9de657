using Npgsql;

/// <summary>A PostgreSQL database made for one bench run on the server a connection string names, and dropped after it.</summary>
internal static class BenchDatabase
{
    public static async Task<string> CreateAsync(string server)
    {
        var name = "gw_bench_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public static async Task DropAsync(string server, string database)
    {
        NpgsqlConnection.ClearAllPools();
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
