using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Support;

/// <summary>
/// A real, migrated SQLite file with the gateway's audit writer on it. Several instances on one path behave like
/// several gateways sharing a database (separate service providers, connection pools and writers).
/// </summary>
internal sealed class AuditDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<IHostedService> _started = [];

    private AuditDatabase(string path, AuditWriteOptions? options)
    {
        Path = path;
        ConnectionString = $"Data Source={path};Pooling=True";
        _services = new ServiceCollection().AddLogging().AddGatewayData(ConnectionString, options).BuildServiceProvider();
    }

    public string Path { get; }

    public string ConnectionString { get; }

    public IAuditSink Sink => _services.GetRequiredService<IAuditSink>();

    public IAuditFlusher Flusher => _services.GetRequiredService<IAuditFlusher>();

    /// <summary>Gets the writer itself, for its commit counts.</summary>
    internal BatchingAuditSink Writer => _services.GetRequiredService<BatchingAuditSink>();

    public AuditChainReader Reader => new(ConnectionString);

    public IServiceProvider Services => _services;

    public static string NewPath()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".db");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Opens (migrating on first use) the database at <paramref name="path"/> and starts its writer.</summary>
    public static async Task<AuditDatabase> OpenAsync(string? path = null, AuditWriteOptions? options = null)
    {
        var db = new AuditDatabase(path ?? NewPath(), options);
        foreach (var hosted in db._services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(TestContext.Timeout);
            db._started.Add(hosted);
        }

        return db;
    }

    /// <summary>Runs raw SQL on the file, outside the gateway (as an attacker with file access would).</summary>
    public static void Execute(string path, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(TestContext.Timeout);
        }

        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
