using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Gateway.Data.Sqlite;

/// <summary>
/// SQLite's own prepared statements, for the readers and writers that run on every call (the audit appender, the
/// session facts' reader): kept for a connection's life and stepped directly, without ADO.NET's command per execution.
/// </summary>
internal static class SqliteStatements
{
    /// <summary>Prepares <paramref name="sql"/> for the connection's life.</summary>
    public static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        // PERSISTENT: kept for the connection's life, so SQLite allocates it outside its short-lived lookaside memory.
        Check(db, raw.sqlite3_prepare_v3(db, sql, raw.SQLITE_PREPARE_PERSISTENT, out var statement));
        return statement;
    }

    /// <summary>Throws SQLite's error for a result code that is not a success (OK, a row, or done).</summary>
    public static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
    }
}
