using Gateway.Data;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Support;

/// <summary>
/// One database (a SQLite file or a PostgreSQL database) and one set of key files (data protection, audit signing, the
/// authorization server's signing key) for the instances of a test, removed after it.
/// </summary>
internal sealed class SharedDatabase : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
    private DatabaseProvider _provider;
    private string _database = string.Empty;

    /// <summary>Creates the database of <paramref name="provider"/>; <paramref name="prefix"/> names a PostgreSQL one.</summary>
    public static async Task<SharedDatabase> CreateAsync(DatabaseProvider provider, string prefix)
    {
        var shared = new SharedDatabase { _provider = provider };
        Directory.CreateDirectory(shared._folder);
        shared._database = provider == DatabaseProvider.Postgres
            ? await PostgresServer.CreateMigratedDatabaseAsync(prefix)
            : $"Data Source={Path.Combine(shared._folder, "gateway.db")}";
        return shared;
    }

    /// <summary>The given settings, merged, on this database and these key files.</summary>
    public Dictionary<string, string?> Settings(params Dictionary<string, string?>[] parts) =>
        Merge([.. parts, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Gateway"] = _database,
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(_folder, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(_folder, "audit-signing-key.pem"),
            ["Gateway:AgentOAuth:AuthorizationServer:SigningKeyPath"] = Path.Combine(_folder, "oauth-server-key.pem"),
        }]);

    public async ValueTask DisposeAsync()
    {
        if (_provider == DatabaseProvider.Postgres)
        {
            await PostgresServer.DropDatabaseAsync(_database);
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder.
        }
    }
}
