using Gateway.Data;
using Gateway.Tests.Support;

namespace Gateway.Tests.Data;

/// <summary>The engines a database test runs on: SQLite always, PostgreSQL when a server can be started (always in CI).</summary>
public static class DatabaseEngines
{
    /// <summary>Theory data: both engines.</summary>
    public static TheoryData<DatabaseProvider> Both => new() { DatabaseProvider.Sqlite, DatabaseProvider.Postgres };

    /// <summary>Skips a PostgreSQL case when no server can be had outside CI (in CI its absence fails the test).</summary>
    public static void Require(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            PostgresServer.SkipUnlessAvailable();
        }
    }
}
