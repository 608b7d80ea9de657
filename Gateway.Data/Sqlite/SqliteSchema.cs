using Gateway.Data.Stores;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gateway.Data.Sqlite;

/// <summary>
/// What SQLite's schema has beyond EF Core's model: the change counter behind <see cref="SqliteChangeMonitor"/>.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The one-row table whose <see cref="CounterColumn"/> the watched tables' triggers count up.</summary>
    public const string CounterTable = "ChangeCounter";

    public const string CounterColumn = "Version";

    private static readonly string[] Operations = ["INSERT", "UPDATE", "DELETE"];

    /// <summary>
    /// The counter and, per watched table, triggers that count it up in the transaction that changes the table.
    /// SQLite's <c>PRAGMA data_version</c> moves at every commit of another connection, the audit writer's on every
    /// call included; the counter moves only for the tables the snapshots hold (PostgreSQL's notification triggers
    /// cover the same tables). SQLite has no statement triggers: a change of many rows counts once per row. Migrations
    /// pass their tables explicitly (<see cref="WatchedTables"/> as it was), so a migration keeps doing what it did.
    /// </summary>
    public static void CreateChangeCounter(MigrationBuilder migrationBuilder, string[] tables, string[] insertOnlyTables)
    {
        migrationBuilder.Sql($"""CREATE TABLE "{CounterTable}" ("Id" INTEGER NOT NULL CONSTRAINT "PK_{CounterTable}" PRIMARY KEY CHECK ("Id" = 1), "{CounterColumn}" INTEGER NOT NULL);""");
        migrationBuilder.Sql($"""INSERT INTO "{CounterTable}" ("Id", "{CounterColumn}") VALUES (1, 0);""");
        foreach (var table in tables)
        {
            foreach (var operation in Operations)
            {
                CreateCountingTrigger(migrationBuilder, table, operation);
            }
        }

        foreach (var table in insertOnlyTables)
        {
            CreateCountingTrigger(migrationBuilder, table, "INSERT");
        }
    }

    public static void DropChangeCounter(MigrationBuilder migrationBuilder, params string[] tables)
    {
        foreach (var table in tables)
        {
            foreach (var operation in Operations)
            {
                migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{TriggerName(table, operation)}";""");
            }
        }

        migrationBuilder.Sql($"""DROP TABLE IF EXISTS "{CounterTable}";""");
    }

    /// <summary>The name of the trigger counting <paramref name="operation"/> on <paramref name="table"/> (tests look for it).</summary>
    public static string TriggerName(string table, string operation) => $"{table}_Count{operation[0]}{operation[1..].ToLowerInvariant()}";

    private static void CreateCountingTrigger(MigrationBuilder migrationBuilder, string table, string operation) =>
        migrationBuilder.Sql($"""CREATE TRIGGER "{TriggerName(table, operation)}" AFTER {operation} ON "{table}" BEGIN UPDATE "{CounterTable}" SET "{CounterColumn}" = "{CounterColumn}" + 1; END;""");
}
