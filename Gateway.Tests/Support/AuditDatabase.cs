using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Sqlite;
using Gateway.Data.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Support;

/// <summary>
/// A real, migrated SQLite file with the gateway's audit writer on it. Several instances on one path behave like
/// several gateways sharing a database (separate service providers, connection pools and writers).
/// </summary>
internal sealed class AuditDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<IHostedService> _started = [];
    private bool _ownsPostgres;

    private AuditDatabase(GatewayDatabase database, string path, AuditWriteOptions? options, TimeProvider? time)
    {
        Database = database;
        Path = path;
        var services = new ServiceCollection().AddLogging();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        _services = services.AddGatewayData(database, options).BuildServiceProvider();
    }

    /// <summary>Gets the database (SQLite or PostgreSQL).</summary>
    public GatewayDatabase Database { get; }

    /// <summary>Gets the SQLite file's path (empty on PostgreSQL).</summary>
    public string Path { get; }

    public string ConnectionString => Database.ConnectionString;

    public IAuditSink Sink => _services.GetRequiredService<IAuditSink>();

    public IAuditFlusher Flusher => _services.GetRequiredService<IAuditFlusher>();

    /// <summary>Gets the writer itself, for its commit counts.</summary>
    internal BatchingAuditSink Writer => _services.GetRequiredService<BatchingAuditSink>();

    public AuditChainReader Reader => new(Database);

    public IServiceProvider Services => _services;

    /// <summary>
    /// A change watch on this SQLite file, looking every 50 ms, started and past its first look (which reports a change
    /// of its own), so what a test commits next is the next change it reports.
    /// </summary>
    public async Task<SqliteChangeMonitor> WatchAsync()
    {
        var monitor = new SqliteChangeMonitor(ConnectionString, TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger<SqliteChangeMonitor>.Instance);
        var before = monitor.Version;
        await monitor.StartAsync(TestContext.Timeout);
        await monitor.WaitForChangeAsync(before, TestContext.Timeout);
        return monitor;
    }

    public static string NewPath()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".db");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Opens (migrating on first use) the database at <paramref name="path"/> and starts its writer.</summary>
    public static async Task<AuditDatabase> OpenAsync(string? path = null, AuditWriteOptions? options = null, TimeProvider? time = null)
    {
        path ??= NewPath();
        return await StartAsync(new AuditDatabase(GatewayDatabase.Sqlite($"Data Source={path};Pooling=True"), path, options, time));
    }

    /// <summary>
    /// Opens a database of either engine: <paramref name="database"/> as given (several instances on one PostgreSQL
    /// database are several gateways), or a fresh one for <paramref name="provider"/> when it is null: on PostgreSQL a
    /// copy of the migrated template, or an empty database when <paramref name="unmigrated"/> (the migrations then run
    /// here, as on a first start). Its clock is <paramref name="time"/> when given.
    /// </summary>
    public static async Task<AuditDatabase> OpenAsync(DatabaseProvider provider, GatewayDatabase? database = null, AuditWriteOptions? options = null, TimeProvider? time = null, bool unmigrated = false)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            return await OpenAsync(database is null ? null : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource, options, time);
        }

        var owned = database is null;
        database ??= GatewayDatabase.Postgres(unmigrated ? await PostgresServer.CreateDatabaseAsync("audit") : await PostgresServer.CreateMigratedDatabaseAsync("audit"));
        return await StartAsync(new AuditDatabase(database, string.Empty, options, time) { _ownsPostgres = owned });
    }

    /// <summary>An instance on <paramref name="database"/> whose hosted services are not started: <see cref="StartAsync(Func{IHostedService, bool})"/> starts them.</summary>
    public static AuditDatabase Unstarted(GatewayDatabase database) => new(database, string.Empty, null, null);

    /// <summary>Starts, in their order, the hosted services not started yet that <paramref name="which"/> selects.</summary>
    public async Task StartAsync(Func<IHostedService, bool> which)
    {
        foreach (var hosted in _services.GetServices<IHostedService>().Where(h => !_started.Contains(h) && which(h)))
        {
            await hosted.StartAsync(TestContext.Timeout);
            _started.Add(hosted);
        }
    }

    private static async Task<AuditDatabase> StartAsync(AuditDatabase db)
    {
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

    /// <summary>
    /// Commits a change to a table the change watch wakes the snapshots for (a revoked user), through a connection of its
    /// own, as another instance on the same file would.
    /// </summary>
    public static void CommitWatchedChange(string path, string? user = null) =>
        Execute(path, "INSERT INTO \"RevokedUsers\" (\"User\", \"RevokedBy\", \"RevokedAt\") VALUES ($user, 'test', '2026-12-02 00:00:00+00:00')", ("$user", user ?? Guid.NewGuid().ToString("N")));

    /// <summary>Runs raw SQL on the database of either engine, outside the gateway's stores.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = Database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(TestContext.Timeout);
        }

        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (_ownsPostgres)
        {
            // The instances opened on it were disposed first (they were opened after it).
            await PostgresServer.DropDatabaseAsync(ConnectionString);
        }
    }
}
