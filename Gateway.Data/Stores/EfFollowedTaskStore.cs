using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The followed tasks in the shared database. A lease is a time in Unix milliseconds; a claim is a conditional update
/// of one row (its lease still the one read), so of two instances claiming the same task one updates it and the other
/// finds nothing to update, on SQLite and PostgreSQL alike.
/// </summary>
internal sealed class EfFollowedTaskStore(IDbContextFactory<GatewayDbContext> factory) : IFollowedTaskStore
{
    public async Task AddAsync(FollowedTask task, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(task.Binding.Length, IFollowedTaskStore.MaxBindingLength, nameof(task));
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.FollowedTasks.Add(new FollowedTaskEntity
        {
            CallId = task.CallId,
            Agent = task.Agent,
            Binding = task.Binding,
            UntilMs = task.Until.ToUnixTimeMilliseconds(),
            LeaseUntilMs = leaseUntil.ToUnixTimeMilliseconds(),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task RemoveAsync(string callId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.FollowedTasks.Where(t => t.CallId == callId).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task RenewAsync(IReadOnlyCollection<string> callIds, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        if (callIds.Count == 0)
        {
            return;
        }

        var lease = leaseUntil.ToUnixTimeMilliseconds();
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.FollowedTasks.Where(t => callIds.Contains(t.CallId)).ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseUntilMs, lease), cancellationToken);
    }

    public async Task ReleaseAsync(IReadOnlyCollection<string> callIds, CancellationToken cancellationToken)
    {
        if (callIds.Count == 0)
        {
            return;
        }

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.FollowedTasks.Where(t => callIds.Contains(t.CallId)).ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseUntilMs, 0L), cancellationToken);
    }

    public async Task<IReadOnlyList<FollowedTask>> ClaimAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var lease = leaseUntil.ToUnixTimeMilliseconds();
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.FollowedTasks.Where(t => t.UntilMs <= nowMs).ExecuteDeleteAsync(cancellationToken);
        if (max <= 0)
        {
            return [];
        }

        var candidates = await db.FollowedTasks.AsNoTracking()
            .Where(t => t.LeaseUntilMs < nowMs)
            .OrderBy(t => t.LeaseUntilMs)
            .Take(max)
            .ToListAsync(cancellationToken);
        var claimed = new List<FollowedTask>(candidates.Count);
        foreach (var candidate in candidates)
        {
            // Still the lease read: no other instance claimed or renewed it in between.
            var updated = await db.FollowedTasks
                .Where(t => t.CallId == candidate.CallId && t.LeaseUntilMs == candidate.LeaseUntilMs)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseUntilMs, lease), cancellationToken);
            if (updated == 1)
            {
                claimed.Add(new FollowedTask(candidate.CallId, candidate.Agent, candidate.Binding, DateTimeOffset.FromUnixTimeMilliseconds(candidate.UntilMs)));
            }
        }

        return claimed;
    }
}
