using System.Reflection;

namespace Gateway.Data;

/// <summary>
/// Each engine's migration ids as the build recorded them (assembly metadata from the migration files' names, see
/// <c>Gateway.Data.csproj</c>). EF Core finds its migrations by loading every type of this assembly and reading their
/// attributes, which cost 30-60 ms of every start (ReadyToRun, 2 cores) and loaded hundreds of types that a started
/// gateway never uses; a start only needs the ids, to see that the database has them all.
/// </summary>
internal static class MigrationIds
{
    private static readonly IReadOnlyList<string> Sqlite = Read(DatabaseProvider.Sqlite);
    private static readonly IReadOnlyList<string> Postgres = Read(DatabaseProvider.Postgres);

    /// <summary>Gets the migration ids of <paramref name="provider"/>'s history, oldest first (ordinal, as EF Core orders them).</summary>
    public static IReadOnlyList<string> Of(DatabaseProvider provider) => provider == DatabaseProvider.Postgres ? Postgres : Sqlite;

    private static string[] Read(DatabaseProvider provider)
    {
        var key = $"Gateway.Migrations.{provider}";
        var value = typeof(MigrationIds).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"Gateway.Data was built without its {key} metadata.");
        return [.. value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];
    }
}
