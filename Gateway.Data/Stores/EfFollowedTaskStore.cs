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
        // Plain commands, not LINQ: every instance claims once a minute, and first a few seconds after its start, nearly
        // always finding nothing; compiling EF Core's queries for that cost an idle gateway ~80 ms of CPU then
        // (bench/fixed-costs.sh --cpu-marks 4,12: 1.5-1.8% of a core against 0.6-0.8% with these commands, 3 runs).
        var nowMs = now.ToUnixTimeMilliseconds();
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        await using (var prune = connection.CreateCommand())
        {
            prune.CommandText = "DELETE FROM \"FollowedTasks\" WHERE \"UntilMs\" <= @now";
            prune.Add("@now", nowMs);
            await prune.ExecuteNonQueryAsync(cancellationToken);
        }

        if (max <= 0)
        {
            return [];
        }

        var candidates = new List<(FollowedTask Task, long Lease)>();
        await using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT \"CallId\", \"Agent\", \"Binding\", \"UntilMs\", \"LeaseUntilMs\" FROM \"FollowedTasks\" WHERE \"LeaseUntilMs\" < @now ORDER BY \"LeaseUntilMs\" LIMIT @max";
            select.Add("@now", nowMs);
            select.Add("@max", max);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add((new FollowedTask(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))), reader.GetInt64(4)));
            }
        }

        var claimed = new List<FollowedTask>(candidates.Count);
        foreach (var (task, lease) in candidates)
        {
            // Still the lease read: no other instance claimed or renewed it in between.
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE \"FollowedTasks\" SET \"LeaseUntilMs\" = @lease WHERE \"CallId\" = @id AND \"LeaseUntilMs\" = @read";
            update.Add("@lease", leaseUntil.ToUnixTimeMilliseconds());
            update.Add("@id", task.CallId);
            update.Add("@read", lease);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                claimed.Add(task);
            }
        }

        return claimed;
    }
}
