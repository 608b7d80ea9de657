using Microsoft.EntityFrameworkCore.Migrations;

namespace Gateway.Data.Postgres;

/// <summary>
/// What PostgreSQL's schema has beyond EF Core's model: the audit tables' append-only triggers and the change
/// notifications behind <see cref="PostgresChangeMonitor"/>. Named here once so migrations and tests agree.
/// </summary>
/// <remarks>
/// Migrations pass their tables explicitly, so a migration keeps doing what it did when it was written; a table
/// added later gets its triggers from its own migration and is added to these lists (which tests check against).
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The tables whose rows are never changed or removed once written.</summary>
    public static readonly string[] AppendOnlyTables = ["AuditEntries", "AuditCheckpoints"];

    /// <summary>
    /// Refuses UPDATE, DELETE and TRUNCATE on the audit tables for every role, the owner included. A least-privilege
    /// runtime role additionally gets no UPDATE, DELETE or TRUNCATE grant (see the README), so even dropping a
    /// trigger takes the owner.
    /// </summary>
    public static void CreateAppendOnlyTriggers(MigrationBuilder migrationBuilder, params string[] tables)
    {
        migrationBuilder.Sql("""
            CREATE FUNCTION gateway_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$;
            """);
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"""CREATE TRIGGER "{table}_NoUpdateOrDelete" BEFORE UPDATE OR DELETE ON "{table}" FOR EACH ROW EXECUTE FUNCTION gateway_append_only();""");
            migrationBuilder.Sql($"""CREATE TRIGGER "{table}_NoTruncate" BEFORE TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION gateway_append_only();""");
        }
    }

    public static void DropAppendOnlyTriggers(MigrationBuilder migrationBuilder, params string[] tables)
    {
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{table}_NoUpdateOrDelete" ON "{table}";""");
            migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{table}_NoTruncate" ON "{table}";""");
        }

        migrationBuilder.Sql("DROP FUNCTION IF EXISTS gateway_append_only();");
    }

    /// <summary>
    /// One statement-level trigger per watched table: <c>pg_notify</c> is delivered when the transaction commits (never
    /// for a rollback), and identical notifications of one transaction are folded into one.
    /// </summary>
    public static void CreateChangeNotifications(MigrationBuilder migrationBuilder, params string[] tables)
    {
        migrationBuilder.Sql($"""
            CREATE FUNCTION gateway_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{PostgresChangeMonitor.Channel}', TG_TABLE_NAME);
                RETURN NULL;
            END $$;
            """);
        AddChangeNotifications(migrationBuilder, tables);
    }

    /// <summary>The notification trigger on tables added after <see cref="CreateChangeNotifications"/> made the function.</summary>
    public static void AddChangeNotifications(MigrationBuilder migrationBuilder, params string[] tables)
    {
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"""CREATE TRIGGER "{table}_Notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION gateway_notify_change();""");
        }
    }

    /// <summary>
    /// A notification trigger on inserts only, for a table whose readers delete what they read (a mailbox): a trigger
    /// on deletes would wake every reader again for each read, also for a read that found nothing (a statement-level
    /// trigger fires for zero rows), and so on without end.
    /// </summary>
    public static void AddInsertNotifications(MigrationBuilder migrationBuilder, params string[] tables)
    {
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"""CREATE TRIGGER "{table}_Notify" AFTER INSERT ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION gateway_notify_change();""");
        }
    }

    public static void DropChangeNotifications(MigrationBuilder migrationBuilder, params string[] tables)
    {
        RemoveChangeNotifications(migrationBuilder, tables);
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS gateway_notify_change();");
    }

    /// <summary>Drops the notification trigger of tables whose migration added it with <see cref="AddChangeNotifications"/>.</summary>
    public static void RemoveChangeNotifications(MigrationBuilder migrationBuilder, params string[] tables)
    {
        foreach (var table in tables)
        {
            migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{table}_Notify" ON "{table}";""");
        }
    }
}
