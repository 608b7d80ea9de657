using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Gateway.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build the model without starting the web host. Each engine has its own
/// history; <c>Gateway.Data/add-migration.sh NAME</c> adds a migration to both (it passes <c>-- --provider postgres</c>
/// for PostgreSQL) and regenerates the engines' compiled models from the model built here. No database is contacted;
/// the PostgreSQL connection string only selects the provider.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<GatewayDbContext>
{
    public GatewayDbContext CreateDbContext(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--provider").Skip(1).FirstOrDefault() is { } name
            && GatewayDatabase.ProviderFor(name, null) == DatabaseProvider.Postgres;
        var database = postgres
            ? GatewayDatabase.Postgres("Host=localhost;Database=design-time")
            : GatewayDatabase.Sqlite("Data Source=design-time.db");
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Configure(options, compiledModel: false);
        return new(options.Options);
    }
}
