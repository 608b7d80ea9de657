using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Data;

/// <summary>
/// An empty database is created with one script of the whole migration history (<see cref="FreshDatabase"/>) instead of
/// the migrations one by one. These keep the script in step with the migrations and show it builds the same database,
/// while a database with a history still takes the migrations.
/// </summary>
public sealed class FreshDatabaseTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public void TheScript_IsTheWholeHistoryAsTheMigrationsGenerateItToday(DatabaseProvider provider)
    {
        // No connection is opened: the script is generated from the migrations and the provider alone.
        var database = provider == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres("Host=127.0.0.1;Database=model-only")
            : GatewayDatabase.Sqlite("Data Source=:memory:");
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Configure(options);
        using var context = new GatewayDbContext(options.Options);

        // What `dotnet ef migrations script --no-transactions` writes (add-migration.sh).
        var expected = context.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Script | MigrationsSqlGenerationOptions.NoTransactions);

        Assert.True(
            Normalize(expected) == Normalize(FreshDatabase.Script(provider)),
            $"Gateway.Data/Migrations/{provider}/FreshDatabase.sql is not the migrations' script: run Gateway.Data/add-migration.sh --model-only.");
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheScript_BuildsWhatTheMigrationsBuild_Once(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var migrated = await EmptyDatabase.CreateAsync(provider);
        await using (var context = migrated.Context())
        {
            await context.Database.MigrateAsync(TestContext.Timeout);
        }

        await using var scripted = await EmptyDatabase.CreateAsync(provider);
        await using (var context = scripted.Context())
        {
            var last = context.Database.GetMigrations().Last();
            Assert.True(await FreshDatabase.TryCreateAsync(context, last, TestContext.Timeout));

            // Once: with a history, the script is not run again (the migrations would find nothing pending).
            Assert.False(await FreshDatabase.TryCreateAsync(context, last, TestContext.Timeout));
            Assert.Empty(await context.Database.GetPendingMigrationsAsync(TestContext.Timeout));
        }

        Assert.Equal(await SchemaAsync(migrated.Database), await SchemaAsync(scripted.Database));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheInitializer_ScriptsAnEmptyDatabase_AndMigratesOneWithAHistory(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var fresh = await EmptyDatabase.CreateAsync(provider);
        var freshLog = await InitializeAsync(fresh);
        Assert.Contains(freshLog, m => m.StartsWith("Database created", StringComparison.Ordinal));

        // An older gateway's database (all but the last migration): upgraded by the migrations, not the script.
        await using var older = await EmptyDatabase.CreateAsync(provider);
        await using (var context = older.Context())
        {
            var migrations = context.Database.GetMigrations().ToList();
            await context.GetService<IMigrator>().MigrateAsync(migrations[^2], TestContext.Timeout);
        }

        var olderLog = await InitializeAsync(older);
        Assert.Contains("Database ready (1 migrations applied)", string.Join("\n", olderLog), StringComparison.Ordinal);
        Assert.Equal(await SchemaAsync(fresh.Database), await SchemaAsync(older.Database));

        // Started again, neither has anything to do.
        Assert.Contains("Database ready (0 migrations applied)", string.Join("\n", await InitializeAsync(fresh)), StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the initializer; returns its log. EF Core logs through the same factory: a warning or an error from it (such
    /// as a failed query against a history table that does not exist yet) fails the test, since an operator's first
    /// start would show it.
    /// </summary>
    private static async Task<List<string>> InitializeAsync(EmptyDatabase database)
    {
        var log = new List<string>();
        var problems = new List<string>();
        using var loggers = LoggerFactory.Create(b => b
            .AddProvider(new ListLoggerProvider(problems, LogLevel.Warning))
            .AddProvider(new ListLoggerProvider(log, LogLevel.Information)));
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Database.Configure(options);
        options.UseLoggerFactory(loggers);
        var initializer = new GatewayDatabaseInitializer(new PooledDbContextFactory<GatewayDbContext>(options.Options), loggers.CreateLogger<GatewayDatabaseInitializer>());
        await initializer.StartAsync(TestContext.Timeout);
        Assert.Empty(problems);
        return log;
    }

    /// <summary>
    /// Every table, column, index, constraint, trigger and history row, as the engine describes them. Not SQLite's
    /// <c>__EFMigrationsLock</c>: EF Core creates that table when it first takes its migration lock, whichever way the
    /// schema was made.
    /// </summary>
    private static async Task<List<string>> SchemaAsync(GatewayDatabase database)
    {
        await using var connection = database.OpenConnection(readOnly: true);
        await using var command = connection.CreateCommand();
        command.CommandText = database.Provider == DatabaseProvider.Postgres
            ? """
              SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || is_identity || ' ' || coalesce(column_default, '') || ' ' || coalesce(character_maximum_length::text, '')
                FROM information_schema.columns WHERE table_schema = 'public'
              UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
              UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
              UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
              UNION ALL SELECT 'function ' || proname || ' ' || prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace
              UNION ALL SELECT 'history ' || "MigrationId" || ' ' || "ProductVersion" FROM "__EFMigrationsHistory"
              """
            : """
              SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '__EFMigrationsLock'
              UNION ALL SELECT 'history ' || MigrationId || ' ' || ProductVersion FROM __EFMigrationsHistory
              """;
        var schema = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Timeout);
        while (await reader.ReadAsync(TestContext.Timeout))
        {
            schema.Add(reader.GetString(0));
        }

        schema.Sort(StringComparer.Ordinal);
        Assert.NotEmpty(schema);
        return schema;
    }

    private static string Normalize(string script) => script.TrimStart('\uFEFF').ReplaceLineEndings("\n");
}
