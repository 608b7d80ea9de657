using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Configurations;

/// <summary>Column conversions shared by the EF model and the audit writer's and reader's raw SQL, so both store the same values.</summary>
internal static class AuditColumns
{
    /// <summary>
    /// Timestamps as UTC ticks in a long, so time-range queries and sorting work the same on SQLite and PostgreSQL. The
    /// converter keeps 0.1 ms; the chain hashes milliseconds, so a row read back hashes the same.
    /// </summary>
    public static readonly DateTimeOffsetToBinaryConverter Timestamp = new();

    public static long ToColumn(DateTimeOffset value) => Timestamp.ConvertToProviderTyped(value);

    public static DateTimeOffset FromColumn(long value) => Timestamp.ConvertFromProviderTyped(value);

    /// <summary>
    /// Reads a stored timestamp that may have been written by hand (an attacker with the file): a value no gateway
    /// writes becomes <see cref="DateTimeOffset.MinValue"/>, so the entry no longer matches its hash and verification
    /// names it, instead of the read failing.
    /// </summary>
    public static DateTimeOffset FromColumnOrMin(long value)
    {
        try
        {
            return FromColumn(value);
        }
        catch (ArgumentException)
        {
            return DateTimeOffset.MinValue;
        }
    }
}
