using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Gateway.Data;

/// <summary>
/// Which engine a context runs on, read from its provider's name. The providers' own <c>IsNpgsql()</c> and
/// <c>IsSqlite()</c> live in their assemblies, so asking them loaded PostgreSQL's EF Core provider into every gateway on
/// SQLite (about 1 MB resident, for a check at start).
/// </summary>
internal static class DatabaseFacadeEngine
{
    /// <summary>The EF Core provider name of PostgreSQL (Npgsql's).</summary>
    private const string PostgresProviderName = "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>Gets the engine an EF Core provider of that name is for; the gateway's only other engine is SQLite.</summary>
    public static DatabaseProvider EngineOf(string? providerName) =>
        string.Equals(providerName, PostgresProviderName, StringComparison.Ordinal) ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite;

    /// <summary>Gets the engine <paramref name="database"/> runs on.</summary>
    public static DatabaseProvider Engine(this DatabaseFacade database) => EngineOf(database.ProviderName);

    /// <summary>Gets whether <paramref name="database"/> is PostgreSQL.</summary>
    public static bool IsPostgres(this DatabaseFacade database) => database.Engine() == DatabaseProvider.Postgres;
}
