using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gateway.Data;

/// <summary>
/// One assembly holds a migration history per engine (<c>Migrations/Sqlite</c>, <c>Migrations/Postgres</c>), each
/// with its own model snapshot; EF Core would otherwise see both. This picks the history of the engine in use by
/// namespace, at run time and for <c>dotnet ef migrations add</c> alike.
/// </summary>
internal sealed class ProviderMigrationsAssembly : IMigrationsAssembly
{
    private readonly string _namespace;
    private readonly Lazy<IReadOnlyDictionary<string, TypeInfo>> _migrations;
    private readonly Lazy<ModelSnapshot?> _snapshot;

    public ProviderMigrationsAssembly(ICurrentDbContext currentContext, IDatabaseProvider databaseProvider)
    {
        _namespace = NamespaceFor(DatabaseFacadeEngine.EngineOf(databaseProvider.Name));
        var contextType = currentContext.Context.GetType();
        var types = Assembly.DefinedTypes
            .Where(t => t.Namespace == _namespace && t.GetCustomAttribute<DbContextAttribute>()?.ContextType == contextType)
            .ToList();
        _migrations = new(() => types
            .Where(t => t.IsSubclassOf(typeof(Migration)) && t.GetCustomAttribute<MigrationAttribute>() is not null)
            .OrderBy(t => t.GetCustomAttribute<MigrationAttribute>()!.Id, StringComparer.Ordinal)
            .ToDictionary(t => t.GetCustomAttribute<MigrationAttribute>()!.Id, t => t));
        _snapshot = new(() => types.FirstOrDefault(t => t.IsSubclassOf(typeof(ModelSnapshot))) is { } snapshot
            ? (ModelSnapshot)Activator.CreateInstance(snapshot.AsType())!
            : null);
    }

    public IReadOnlyDictionary<string, TypeInfo> Migrations => _migrations.Value;

    public ModelSnapshot? ModelSnapshot => _snapshot.Value;

    public Assembly Assembly => typeof(ProviderMigrationsAssembly).Assembly;

    /// <summary>The namespace (and folder) of an engine's migrations.</summary>
    public static string NamespaceFor(DatabaseProvider provider) => $"Gateway.Data.Migrations.{provider}";

    public string? FindMigrationId(string nameOrId) => Migrations.Keys
        .Where(id => string.Equals(id, nameOrId, StringComparison.OrdinalIgnoreCase) || string.Equals(id[(id.IndexOf('_') + 1)..], nameOrId, StringComparison.OrdinalIgnoreCase))
        .FirstOrDefault();

    public Migration CreateMigration(TypeInfo migrationClass, string activeProvider)
    {
        var migration = (Migration)Activator.CreateInstance(migrationClass.AsType())!;
        migration.ActiveProvider = activeProvider;
        return migration;
    }
}
