using Gateway.Data;
using Microsoft.Data.Sqlite;

namespace Gateway.Web.Hosting;

/// <summary>Where the gateway finds its configuration file and keeps its data.</summary>
internal static class GatewayPaths
{
    /// <summary>
    /// The content root, which holds <c>appsettings.json</c> and, by default, <c>data/</c> (the database, the key ring,
    /// the audit signing key): the working directory when it holds <c>appsettings.json</c>; else, when the binaries
    /// are the build output of a source tree (<c>dotnet run --project Gateway.Web</c> from anywhere, or
    /// <c>bin/Debug/net10.0/Gateway.Web.dll</c> run directly), the folder of the repository's own
    /// <c>appsettings.json</c>, so the data stays beside it instead of under <c>bin/</c>, where a clean or a change of
    /// configuration or target framework would lose it; else the directory of the binaries (a published gateway,
    /// where the build copied the operator's file).
    /// </summary>
    public static string ResolveContentRoot() => ResolveContentRoot(Directory.GetCurrentDirectory(), AppContext.BaseDirectory);

    /// <summary>The rule of <see cref="ResolveContentRoot()"/>, for a given working directory and binaries folder.</summary>
    public static string ResolveContentRoot(string workingDirectory, string baseDirectory)
    {
        if (File.Exists(Path.Combine(workingDirectory, "appsettings.json")))
        {
            return workingDirectory;
        }

        return SourceTreeRoot(baseDirectory) ?? baseDirectory;
    }

    /// <summary>
    /// The repository root when <paramref name="baseDirectory"/> lies under <c>{project}/bin/</c> of a project folder that
    /// holds <c>Gateway.Web.csproj</c>, and the folder above it holds the <c>appsettings.json</c> the project links;
    /// otherwise <see langword="null"/>. Judged from the folders alone: nothing about the build machine is compiled in.
    /// </summary>
    private static string? SourceTreeRoot(string baseDirectory)
    {
        for (var folder = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDirectory))); folder?.Parent is { } parent; folder = parent)
        {
            if (string.Equals(folder.Name, "bin", StringComparison.Ordinal))
            {
                return File.Exists(Path.Combine(parent.FullName, "Gateway.Web.csproj")) && parent.Parent is { } root && File.Exists(Path.Combine(root.FullName, "appsettings.json"))
                    ? root.FullName
                    : null;
            }
        }

        return null;
    }

    /// <summary>
    /// The database: <c>ConnectionStrings:Gateway</c> on the engine <c>Gateway:Database:Provider</c> names, or, when
    /// that is unset, the one the connection string is written for (Npgsql's <c>Host=</c> means PostgreSQL). Without a
    /// connection string, SQLite at <c>data/gateway.db</c> under the content root.
    /// </summary>
    public static GatewayDatabase ResolveDatabase(IConfiguration configuration, string contentRoot)
    {
        var configured = configuration.GetConnectionString("Gateway");
        return GatewayDatabase.ProviderFor(configuration["Gateway:Database:Provider"], configured) == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres(configured ?? throw new InvalidOperationException("Gateway:Database:Provider is postgres but ConnectionStrings:Gateway is not set."))
            : GatewayDatabase.Sqlite(ResolveSqliteConnectionString(configured, contentRoot));
    }

    /// <summary>
    /// How often a SQLite file is looked at for changes made by another instance (what re-reads agents, keys, policies,
    /// classes, pins and servers): <c>Gateway:Database:ChangePollInterval</c>, or its former name
    /// <c>Gateway:Upstreams:AgentRefreshInterval</c> (it never drove only agents); 1 s when neither is set.
    /// </summary>
    public static TimeSpan? ChangePollInterval(IConfiguration configuration) =>
        configuration.GetValue<TimeSpan?>("Gateway:Database:ChangePollInterval")
        ?? configuration.GetValue<TimeSpan?>("Gateway:Upstreams:AgentRefreshInterval");

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

    /// <summary>
    /// Where files the gateway keeps go by default (the key ring, the audit signing key): the folder of the SQLite
    /// file, else <c>data</c> under the content root (an in-memory or a PostgreSQL database).
    /// </summary>
    public static string DataFolder(GatewayDatabase database, string contentRoot)
    {
        if (database.Provider != DatabaseProvider.Sqlite)
        {
            return Path.Combine(contentRoot, "data");
        }

        var builder = new SqliteConnectionStringBuilder(database.ConnectionString);
        return builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory
            ? Path.Combine(contentRoot, "data")
            : Path.GetDirectoryName(builder.DataSource)!;
    }

    /// <summary>The audit signing key: <c>Gateway:Audit:SigningKeyPath</c> (relative to the content root), else in <see cref="DataFolder"/>.</summary>
    public static string ResolveAuditKeyPath(string? configured, string contentRoot, GatewayDatabase database) =>
        !string.IsNullOrWhiteSpace(configured)
            ? Path.GetFullPath(configured, contentRoot)
            : Path.Combine(DataFolder(database, contentRoot), "audit-signing-key.pem");
}
