using Gateway.Data;
using Gateway.Data.Sqlite;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// Each engine has its own migration history. These keep them in step: every migration applies on a fresh database of
/// its engine, leaves no model change pending, and both engines end with the same tables, columns and indexes.
/// </summary>
public sealed class MigrationsTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task EveryMigrationApplies_AndTheDatabaseMatchesTheModel(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);

        // The migrations themselves, one by one: a gateway starting on an empty database runs them as one script
        // (FreshDatabaseTests), so this is what upgrades of existing databases run.
        await using var empty = await EmptyDatabase.CreateAsync(provider);
        await using var context = empty.Context();
        await context.Database.MigrateAsync(TestContext.Timeout);

        Assert.Empty(await context.Database.GetPendingMigrationsAsync(TestContext.Timeout));
        Assert.Equal(context.Database.GetMigrations(), await context.Database.GetAppliedMigrationsAsync(TestContext.Timeout));
        Assert.False(context.Database.HasPendingModelChanges(), $"The {provider} model has changes no migration holds: add a migration for it (see DesignTimeDbContextFactory).");

        // What the migrations built is what the model says, column for column; beyond it only EF Core's history and
        // SQLite's change counter (what its watch reads; outside the model, as PostgreSQL's triggers are).
        var actual = await ColumnsInDatabaseAsync(empty.Database);
        var expected = Columns(context.Model);
        var outsideTheModel = provider == DatabaseProvider.Sqlite ? new[] { $"{SqliteSchema.CounterTable}.Id", $"{SqliteSchema.CounterTable}.{SqliteSchema.CounterColumn}" } : [];
        Assert.Equal(expected, actual.Where(c => !c.StartsWith("__EF", StringComparison.Ordinal)).Except(outsideTheModel).ToHashSet());
        Assert.All(outsideTheModel, c => Assert.Contains(c, actual));
    }

    [Fact]
    public void BothEngines_HaveTheSameTablesColumnsAndIndexes()
    {
        var sqlite = Model(DatabaseProvider.Sqlite);
        var postgres = Model(DatabaseProvider.Postgres);

        Assert.Equal(Columns(sqlite), Columns(postgres));
        Assert.Equal(Indexes(sqlite), Indexes(postgres));

        // And each history's migrations are found only on their own engine.
        Assert.All(Migrations(DatabaseProvider.Sqlite), m => Assert.StartsWith("Gateway.Data.Migrations.Sqlite.", m, StringComparison.Ordinal));
        Assert.All(Migrations(DatabaseProvider.Postgres), m => Assert.StartsWith("Gateway.Data.Migrations.Postgres.", m, StringComparison.Ordinal));
    }

    private static IModel Model(DatabaseProvider provider)
    {
        using var context = Context(provider);
        return context.GetService<Microsoft.EntityFrameworkCore.Metadata.IDesignTimeModel>().Model;
    }

    private static List<string> Migrations(DatabaseProvider provider)
    {
        using var context = Context(provider);
        return [.. context.GetService<IMigrationsAssembly>().Migrations.Values.Select(t => t.FullName!)];
    }

    private static GatewayDbContext Context(DatabaseProvider provider)
    {
        // No connection is opened: the model and the migrations are built from the provider alone.
        var database = provider == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres("Host=127.0.0.1;Database=model-only")
            : GatewayDatabase.Sqlite("Data Source=:memory:");
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Configure(options);
        return new GatewayDbContext(options.Options);
    }

    private static HashSet<string> Columns(IModel model) =>
        [.. model.GetRelationalModel().Tables.SelectMany(t => t.Columns.Select(c => $"{t.Name}.{c.Name}"))];

    private static HashSet<string> Indexes(IModel model) =>
        [.. model.GetRelationalModel().Tables.SelectMany(t => t.Indexes.Select(i => $"{t.Name}.{i.Name}({string.Join(",", i.Columns.Select(c => c.Name))}){(i.IsUnique ? " unique" : string.Empty)}{(i.Filter is null ? string.Empty : " partial")}"))];

    private static async Task<HashSet<string>> ColumnsInDatabaseAsync(GatewayDatabase database)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = database.Provider == DatabaseProvider.Postgres
            ? "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'"
            : "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
        var columns = new HashSet<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }
}
