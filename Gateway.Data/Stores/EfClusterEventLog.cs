using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The cluster's event log in the shared database: a publish is one insert (PostgreSQL's trigger notifies, SQLite's
/// <c>data_version</c> moves), a read is one range query on the primary key. Expired events are deleted at most once a
/// minute per instance, with a read.
/// </summary>
internal sealed class EfClusterEventLog(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IClusterEventLog
{
    private static readonly long PruneEveryMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private long _nextPruneMs;

    public async Task PublishAsync(ClusterEvent clusterEvent, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Add(new ClusterEventEntity
        {
            Origin = clusterEvent.Origin,
            Kind = clusterEvent.Kind,
            Subject = clusterEvent.Subject,
            ExpiresAtMs = clusterEvent.ExpiresAt.ToUnixTimeMilliseconds(),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(long Id, ClusterEvent Event)>> ReadAfterAsync(long after, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextPruneMs);
        if (now >= due && Interlocked.CompareExchange(ref _nextPruneMs, now + PruneEveryMs, due) == due)
        {
            await db.Set<ClusterEventEntity>().Where(e => e.ExpiresAtMs <= now).ExecuteDeleteAsync(cancellationToken);
        }

        var rows = await db.Set<ClusterEventEntity>().AsNoTracking()
            .Where(e => e.Id > after)
            .OrderBy(e => e.Id)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => (r.Id, new ClusterEvent(r.Origin, r.Kind, r.Subject, DateTimeOffset.FromUnixTimeMilliseconds(r.ExpiresAtMs))))];
    }

    public async Task<long> HeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Set<ClusterEventEntity>().MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0;
    }
}
