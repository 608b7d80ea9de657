using Microsoft.Data.Sqlite;

namespace Gateway.Web.Hosting;

/// <summary>Where the gateway finds its configuration file and keeps its data.</summary>
internal static class GatewayPaths
{
    /// <summary>
    /// The content root: the working directory when it holds <c>appsettings.json</c>, else the directory of the binaries
    /// (where the build copies the root <c>appsettings.json</c>), so <c>dotnet run --project Gateway.Web</c> and
    /// <c>dotnet Gateway.Web.dll</c> from anywhere both load the operator's file.
    /// </summary>
    public static string ResolveContentRoot()
    {
        var cwd = Directory.GetCurrentDirectory();
        return File.Exists(Path.Combine(cwd, "appsettings.json")) ? cwd : AppContext.BaseDirectory;
    }

    /// <summary>
    /// The SQLite connection string: <c>ConnectionStrings:Gateway</c>, or <c>data/gateway.db</c> under the content root.
    /// A relative <c>Data Source</c> is taken relative to the content root, and its folder is created.
    /// </summary>
    public static string ResolveSqliteConnectionString(string? configured, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? "Data Source=data/gateway.db" : configured);
        if (builder.DataSource != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            builder.DataSource = Path.GetFullPath(builder.DataSource, contentRoot);
            Directory.CreateDirectory(Path.GetDirectoryName(builder.DataSource)!);
        }

        // Pooling keeps the native handle open between EF operations (the pragmas run once per physical open).
        builder.Pooling = true;
        return builder.ToString();
    }

    /// <summary>The folder of the SQLite file (where the key ring goes by default); <c>data</c> under the content root for an in-memory database.</summary>
    public static string DataFolder(string sqliteConnectionString, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(sqliteConnectionString);
        return builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory
            ? Path.Combine(contentRoot, "data")
            : Path.GetDirectoryName(builder.DataSource)!;
    }

    /// <summary>The audit signing key: <c>Gateway:Audit:SigningKeyPath</c> (relative to the content root), else beside the database.</summary>
    public static string ResolveAuditKeyPath(string? configured, string contentRoot, string sqliteConnectionString)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, contentRoot);
        }

        var dataSource = new SqliteConnectionStringBuilder(sqliteConnectionString).DataSource;
        var folder = Path.IsPathRooted(dataSource) ? Path.GetDirectoryName(dataSource)! : Path.Combine(contentRoot, "data");
        return Path.Combine(folder, "audit-signing-key.pem");
    }
}
