using System.Data.Common;
using Gateway.Data.Configurations;

namespace Gateway.Data;

/// <summary>
/// The few places where the audit trail's hand-written SQL differs between SQLite and PostgreSQL. The rest is shared:
/// identifiers are double-quoted (PostgreSQL folds unquoted names to lower case; SQLite accepts the quotes) and
/// parameters are <c>@name</c> (both drivers accept it).
/// </summary>
internal abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();

    public static readonly SqlDialect Postgres = new PostgresDialect();

    /// <summary>The value of a timestamp parameter as the column stores it.</summary>
    public abstract object Timestamp(DateTimeOffset value);

    /// <summary>Reads a timestamp column; a value no gateway writes reads as <see cref="DateTimeOffset.MinValue"/>.</summary>
    public abstract DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal);

    /// <summary>A condition: <paramref name="column"/> contains the text parameter <paramref name="parameter"/> (case-sensitive, no pattern characters).</summary>
    public abstract string Contains(string column, string parameter);

    /// <summary>A condition: <paramref name="low"/> ≤ <paramref name="column"/> &lt; <paramref name="high"/> in byte (ordinal) order.</summary>
    public abstract string OrdinalRange(string column, string low, string high);

    private sealed class SqliteDialect : SqlDialect
    {
        // UTC ticks in an integer: SQLite has no time type, and text would not sort or compare correctly.
        public override object Timestamp(DateTimeOffset value) => AuditColumns.ToColumn(value.ToUniversalTime());

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) => AuditColumns.FromColumnOrMin(reader.GetInt64(ordinal));

        public override string Contains(string column, string parameter) => $"instr({column}, {parameter}) > 0";

        // SQLite compares text bytewise (BINARY) by default: a range of the column's index.
        public override string OrdinalRange(string column, string low, string high) => $"{column} >= {low} AND {column} < {high}";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        // timestamptz: Npgsql writes only UTC values to it.
        public override object Timestamp(DateTimeOffset value) => value.ToUniversalTime();

        public override DateTimeOffset ReadTimestamp(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

        public override string Contains(string column, string parameter) => $"strpos({column}, {parameter}) > 0";

        // The database's collation may order by letters first and ignore punctuation ('agent/x' after 'agent0' in
        // en_US): compare in the C collation. That cannot use the column's index; the caller bounds the scan otherwise.
        public override string OrdinalRange(string column, string low, string high) => $"{column} COLLATE \"C\" >= {low} AND {column} COLLATE \"C\" < {high}";
    }
}

/// <summary>Parameters for commands of either engine.</summary>
internal static class DbCommandExtensions
{
    /// <summary>Adds a parameter named <paramref name="name"/> (with its <c>@</c>); <see langword="null"/> is SQL NULL.</summary>
    public static DbParameter Add(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
