using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The single-use ledger in the shared database: taking a key is one insert-if-absent, decided by the primary key on
/// SQLite and PostgreSQL alike; expired marks are deleted at most once a minute per instance, with a take. An unflushed
/// take commits without waiting for the disk (PostgreSQL: <c>synchronous_commit</c> off for its transaction; SQLite:
/// <c>synchronous=NORMAL</c> for its statement).
/// </summary>
internal sealed class EfSingleUseLedger(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : ISingleUseLedger
{
    private static readonly long PruneEveryMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private long _nextPruneMs;

    public Task<bool> TryTakeAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken) =>
        TakeAsync(key, expires, flush: true, cancellationToken);

    public Task<bool> TryTakeUnflushedAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken) =>
        TakeAsync(key, expires, flush: false, cancellationToken);

    private async Task<bool> TakeAsync(string key, DateTimeOffset expires, bool flush, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, ISingleUseLedger.MaxKeyLength, nameof(key));
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextPruneMs);
        if (now >= due && Interlocked.CompareExchange(ref _nextPruneMs, now + PruneEveryMs, due) == due)
        {
            await db.Set<SingleUseMarkEntity>().Where(m => m.ExpiresAtMs <= now).ExecuteDeleteAsync(cancellationToken);
        }

        var expiresMs = expires.ToUnixTimeMilliseconds();
        var taken = flush ? await InsertAsync(db, key, expiresMs, cancellationToken)
            : db.Database.IsPostgres() ? await InsertUnflushedOnPostgresAsync(db, key, expiresMs, cancellationToken)
            : await InsertUnflushedOnSqliteAsync(db, key, expiresMs, cancellationToken);
        return taken == 1;
    }

    /// <summary>ON CONFLICT DO NOTHING is the same statement on both engines (SQLite 3.24+); the row count says who took it.</summary>
    private static Task<int> InsertAsync(GatewayDbContext db, string key, long expiresMs, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"""INSERT INTO "SingleUseMarks" ("Key", "ExpiresAtMs") VALUES ({key}, {expiresMs}) ON CONFLICT ("Key") DO NOTHING""",
            cancellationToken);

    /// <summary>
    /// The statement's own transaction commits without waiting for its WAL flush: <c>set_config(..., true)</c> is
    /// <c>SET LOCAL</c>, read when that transaction commits, and gone after it.
    /// </summary>
    private static Task<int> InsertUnflushedOnPostgresAsync(GatewayDbContext db, string key, long expiresMs, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"""WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true)) INSERT INTO "SingleUseMarks" ("Key", "ExpiresAtMs") SELECT {key}, {expiresMs} FROM unflushed ON CONFLICT ("Key") DO NOTHING""",
            cancellationToken);

    /// <summary>
    /// WAL with <c>synchronous=NORMAL</c> commits without a sync (the next checkpoint syncs); the connection's next
    /// opening sets FULL again (<see cref="Sqlite.SqlitePragmaInterceptor"/>). Two commands on one open connection, not
    /// one with both statements: Microsoft.Data.Sqlite would add to the insert's row count the connection's last change
    /// count, which SQLite reports again after the pragma (a stale 1 from an earlier take).
    /// </summary>
    private static async Task<int> InsertUnflushedOnSqliteAsync(GatewayDbContext db, string key, long expiresMs, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=NORMAL", cancellationToken);
            return await InsertAsync(db, key, expiresMs, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
