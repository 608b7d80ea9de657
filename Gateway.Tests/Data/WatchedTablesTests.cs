using System.Data.Common;
using Gateway.Data;
using Gateway.Data.Sqlite;
using Gateway.Data.Stores;
using Gateway.Tests.Support;

namespace Gateway.Tests.Data;

/// <summary>
/// The tables whose changes wake the snapshots (<see cref="WatchedTables"/>) are exactly the ones a fresh database of
/// each engine reports: SQLite's triggers counting up its change counter, PostgreSQL's notification triggers.
/// </summary>
public sealed class WatchedTablesTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AFreshDatabase_ReportsChangesToTheWatchedTables_AndNoOthers(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        await using var connection = db.Database.OpenConnection();

        if (provider == DatabaseProvider.Sqlite)
        {
            var expected = WatchedTables.All
                .SelectMany(t => new[] { "INSERT", "UPDATE", "DELETE" }.Select(op => SqliteSchema.TriggerName(t, op)))
                .Concat(WatchedTables.InsertOnly.Select(t => SqliteSchema.TriggerName(t, "INSERT")))
                .Order();
            Assert.Equal(expected, await NamesAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%\"ChangeCounter\"%' ORDER BY name"));
        }
        else
        {
            // Table and the events its notification trigger fires on (bits of pg_trigger.tgtype: 4 insert, 8 delete, 16 update).
            var expected = WatchedTables.All.Select(t => $"{t}:4,8,16").Concat(WatchedTables.InsertOnly.Select(t => $"{t}:4")).Order();
            Assert.Equal(expected, await NamesAsync(connection, """
                SELECT c.relname || ':' || concat_ws(',', CASE WHEN t.tgtype & 4 <> 0 THEN '4' END, CASE WHEN t.tgtype & 8 <> 0 THEN '8' END, CASE WHEN t.tgtype & 16 <> 0 THEN '16' END)
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE p.proname = 'gateway_notify_change' ORDER BY 1
                """));
        }
    }

    [Fact]
    public async Task SqliteCountsAChangeOfAWatchedTable_InItsTransaction_OncePerRow()
    {
        await using var db = await AuditDatabase.OpenAsync();
        await using var connection = db.Database.OpenConnection();
        var before = await CounterAsync(connection);
        await db.ExecuteAsync("""INSERT INTO "RevokedUsers" ("User", "RevokedBy", "RevokedAt") VALUES ('a', 'test', '2026-12-02 00:00:00+00:00'), ('b', 'test', '2026-12-02 00:00:00+00:00')""");
        await db.ExecuteAsync("""UPDATE "RevokedUsers" SET "RevokedBy" = 'other' WHERE "User" = 'a'""");
        await db.ExecuteAsync("""DELETE FROM "RevokedUsers" """);
        Assert.Equal(before + 5, await CounterAsync(connection));

        // A table outside the list (a call's audit entry is one) leaves it where it was.
        await db.Sink.CommitAsync(Core.Audit.AuditChainTests.Sample(1), TestContext.Timeout);
        Assert.Equal(before + 5, await CounterAsync(connection));
    }

    private static async Task<long> CounterAsync(DbConnection connection) =>
        long.Parse((await NamesAsync(connection, $"""SELECT "{SqliteSchema.CounterColumn}" FROM "{SqliteSchema.CounterTable}" """)).Single(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<string>> NamesAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(TestContext.Timeout);
        var names = new List<string>();
        while (await reader.ReadAsync(TestContext.Timeout))
        {
            names.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return names;
    }
}
