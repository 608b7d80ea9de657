using Gateway.Data;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Tests.Data;

/// <summary>
/// The migration ids a start compares the database's history with (recorded by the build from the migration files'
/// names) are EF Core's own, engine by engine: a migration added, renamed or removed shows in both or the test fails.
/// </summary>
public sealed class MigrationIdsTests
{
    [Theory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public void RecordedIds_AreEfCoresMigrations_InOrder(DatabaseProvider provider)
    {
        // No server needed: EF Core lists the migrations from the assembly, without connecting.
        var database = provider == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres("Host=127.0.0.1;Port=1;Database=none;Username=none")
            : GatewayDatabase.Sqlite($"Data Source={Path.Combine(Path.GetTempPath(), "never-opened.db")}");
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Configure(options);
        using var context = new GatewayDbContext(options.Options);

        var efCore = context.Database.GetMigrations().ToList();
        Assert.True(efCore.Count >= 10, $"only {efCore.Count} migrations found for {provider}");
        Assert.Equal(efCore, MigrationIds.Of(provider));
    }
}
