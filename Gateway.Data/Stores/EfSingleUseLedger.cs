using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The single-use ledger in the shared database: taking a key is one insert-if-absent, decided by the primary key on
/// SQLite and PostgreSQL alike; expired marks are deleted at most once a minute per instance, with a take.
/// </summary>
internal sealed class EfSingleUseLedger(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : ISingleUseLedger
{
    private static readonly long PruneEveryMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private long _nextPruneMs;

    public async Task<bool> TryTakeAsync(string key, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, ISingleUseLedger.MaxKeyLength, nameof(key));
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextPruneMs);
        if (now >= due && Interlocked.CompareExchange(ref _nextPruneMs, now + PruneEveryMs, due) == due)
        {
            await db.Set<SingleUseMarkEntity>().Where(m => m.ExpiresAtMs <= now).ExecuteDeleteAsync(cancellationToken);
        }

        // ON CONFLICT DO NOTHING is the same statement on both engines (SQLite 3.24+); the row count says who took it.
        var taken = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""INSERT INTO "SingleUseMarks" ("Key", "ExpiresAtMs") VALUES ({key}, {expires.ToUnixTimeMilliseconds()}) ON CONFLICT ("Key") DO NOTHING""",
            cancellationToken);
        return taken == 1;
    }
}
