using System.Data.Common;
using Gateway.Core.Siem;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The SIEM cursors and their leases in <c>SiemCursors</c>, with conditional updates that are atomic on both engines
/// (SQLite serialises writers; PostgreSQL re-checks an updated row's condition), so two instances never both hold a lease.
/// </summary>
internal sealed class EfSiemCursorStore(IDbContextFactory<GatewayDbContext> factory) : ISiemCursorStore
{
    /// <summary>The longest error text stored (the column's length).</summary>
    public const int MaxErrorLength = 1024;

    public async Task<IReadOnlyList<SiemCursor>> ReadAllAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.SiemCursors.AsNoTracking().OrderBy(c => c.Sink).ToListAsync(cancellationToken);
        return [.. rows.Select(c => new SiemCursor(
            c.Sink,
            c.Sequence,
            c.LeaseOwner,
            DateTimeOffset.FromUnixTimeMilliseconds(c.LeaseUntil),
            c.LastSuccessAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(c.LastSuccessAt),
            c.LastError,
            c.LastErrorAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(c.LastErrorAt),
            c.CheckpointSequence))];
    }

    public async Task<long?> TryLeaseAsync(string sink, string owner, long start, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await ExecuteAsync(connection, """
            INSERT INTO "SiemCursors" ("Sink", "Sequence", "CheckpointSequence", "LeaseOwner", "LeaseUntil", "LastSuccessAt", "LastError", "LastErrorAt")
            VALUES (@sink, @start, @start, NULL, 0, 0, NULL, 0)
            ON CONFLICT ("Sink") DO NOTHING
            """, cancellationToken, ("@sink", sink), ("@start", start));
        var taken = await ExecuteAsync(connection, """
            UPDATE "SiemCursors" SET "LeaseOwner" = @owner, "LeaseUntil" = @until
            WHERE "Sink" = @sink AND ("LeaseOwner" IS NULL OR "LeaseOwner" = @owner OR "LeaseUntil" < @now)
            """, cancellationToken, ("@sink", sink), ("@owner", owner), ("@until", until.ToUnixTimeMilliseconds()), ("@now", now.ToUnixTimeMilliseconds()));
        if (taken == 0)
        {
            return null;
        }

        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT \"Sequence\" FROM \"SiemCursors\" WHERE \"Sink\" = @sink AND \"LeaseOwner\" = @owner";
        read.Add("@sink", sink);
        read.Add("@owner", owner);
        return await read.ExecuteScalarAsync(cancellationToken) is { } sequence and not DBNull ? Convert.ToInt64(sequence, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    public async Task<bool> AdvanceAsync(string sink, string owner, long sequence, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);

        // Never backwards: a cursor only moves on past what was acknowledged.
        return await ExecuteAsync(db.Database.GetDbConnection(), """
            UPDATE "SiemCursors" SET "Sequence" = @sequence, "LeaseUntil" = @until, "LastSuccessAt" = @now, "LastError" = NULL
            WHERE "Sink" = @sink AND "LeaseOwner" = @owner AND "Sequence" <= @sequence
            """, cancellationToken, ("@sink", sink), ("@owner", owner), ("@sequence", sequence), ("@until", until.ToUnixTimeMilliseconds()), ("@now", now.ToUnixTimeMilliseconds())) == 1;
    }

    public async Task<long> ReadCheckpointCursorAsync(string sink, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.SiemCursors.AsNoTracking().Where(c => c.Sink == sink).Select(c => c.CheckpointSequence).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<bool> AdvanceCheckpointsAsync(string sink, string owner, long sequence, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        return await ExecuteAsync(db.Database.GetDbConnection(), """
            UPDATE "SiemCursors" SET "CheckpointSequence" = @sequence, "LeaseUntil" = @until, "LastSuccessAt" = @now, "LastError" = NULL
            WHERE "Sink" = @sink AND "LeaseOwner" = @owner AND "CheckpointSequence" <= @sequence
            """, cancellationToken, ("@sink", sink), ("@owner", owner), ("@sequence", sequence), ("@until", until.ToUnixTimeMilliseconds()), ("@now", now.ToUnixTimeMilliseconds())) == 1;
    }

    public async Task RecordFailureAsync(string sink, string owner, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(db.Database.GetDbConnection(), """
            UPDATE "SiemCursors" SET "LastError" = @error, "LastErrorAt" = @now WHERE "Sink" = @sink AND "LeaseOwner" = @owner
            """, cancellationToken, ("@sink", sink), ("@owner", owner), ("@error", error.Length > MaxErrorLength ? error[..MaxErrorLength] : error), ("@now", now.ToUnixTimeMilliseconds()));
    }

    public async Task ReleaseAsync(string sink, string owner, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(db.Database.GetDbConnection(), """
            UPDATE "SiemCursors" SET "LeaseOwner" = NULL, "LeaseUntil" = 0 WHERE "Sink" = @sink AND "LeaseOwner" = @owner
            """, cancellationToken, ("@sink", sink), ("@owner", owner));
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Add(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
