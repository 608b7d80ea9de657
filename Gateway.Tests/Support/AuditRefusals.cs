using Gateway.Data;

namespace Gateway.Tests.Support;

/// <summary>
/// Makes a real database refuse some audit entries (a trigger that aborts their insert), as a failing disk or a lost
/// database would refuse them all: for tests that a change and its entry commit together or not at all.
/// </summary>
internal sealed class AuditRefusals : IAsyncDisposable
{
    private readonly GatewayDatabase _database;
    private readonly string _name;

    private AuditRefusals(GatewayDatabase database, string name) => (_database, _name) = (database, name);

    /// <summary>Refuses the entries of <paramref name="kind"/> about <paramref name="tool"/> (about any, when null) until disposed.</summary>
    public static async Task<AuditRefusals> RefuseAsync(GatewayDatabase database, string kind, string? tool)
    {
        var name = "refuse_" + Guid.NewGuid().ToString("N");
        var about = tool is null ? string.Empty : $" AND NEW.\"Tool\" = '{tool}'";
        await ExecuteAsync(database, database.Provider == DatabaseProvider.Postgres
            ? $"""
              CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
              CREATE TRIGGER {name} BEFORE INSERT ON "AuditEntries" FOR EACH ROW WHEN (NEW."Kind" = '{kind}'{about}) EXECUTE FUNCTION {name}();
              """
            : $"CREATE TRIGGER {name} BEFORE INSERT ON AuditEntries WHEN NEW.Kind = '{kind}'{about} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        return new AuditRefusals(database, name);
    }

    public async ValueTask DisposeAsync() =>
        await ExecuteAsync(_database, _database.Provider == DatabaseProvider.Postgres
            ? $"DROP TRIGGER {_name} ON \"AuditEntries\"; DROP FUNCTION {_name}();"
            : $"DROP TRIGGER {_name};");

    private static async Task ExecuteAsync(GatewayDatabase database, string sql)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Timeout);
    }
}
