using System.Globalization;
using System.Text;
using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The followed tasks in the shared database. A lease is a time in Unix milliseconds; a claim is a conditional update
/// of one row (its lease still the one read), so of two instances claiming the same task one updates it and the other
/// finds nothing to update, on SQLite and PostgreSQL alike. Renewals and releases are conditional the same way, on the
/// lease time the instance last wrote.
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

    public async Task<IReadOnlyCollection<string>> RenewAsync(IReadOnlyCollection<TaskLease> held, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        var renewed = new List<string>(held.Count);
        if (held.Count > 0)
        {
            await ConditionallySetAsync(held, leaseUntil.ToUnixTimeMilliseconds(), renewed, cancellationToken);
        }

        return renewed;
    }

    public async Task ReleaseAsync(IReadOnlyCollection<TaskLease> held, CancellationToken cancellationToken)
    {
        if (held.Count > 0)
        {
            await ConditionallySetAsync(held, 0L, null, cancellationToken);
        }
    }

    /// <summary>
    /// Sets the lease of each held task to <paramref name="lease"/> where the row still holds the lease time this
    /// instance last wrote, collecting the call ids set. Another instance writes a task's lease only by claiming it
    /// (its now plus the lease: past the lease time it found run out, so never the one it replaces) or, after that, as
    /// its holder; so the lease time an instance wrote is still there only while nobody else took the task. One
    /// statement per lease time held and per <see cref="Chunk"/> tasks: after their first renewal, an instance's tasks
    /// share one lease time.
    /// </summary>
    private async Task ConditionallySetAsync(IReadOnlyCollection<TaskLease> held, long lease, List<string>? set, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        foreach (var group in held.GroupBy(h => h.Until.ToUnixTimeMilliseconds()))
        {
            foreach (var chunk in group.Chunk(Chunk))
            {
                await using var update = connection.CreateCommand();
                var ids = new StringBuilder();
                for (var i = 0; i < chunk.Length; i++)
                {
                    ids.Append(i == 0 ? "@c0" : ", @c" + i.ToString(CultureInfo.InvariantCulture));
                    update.Add("@c" + i.ToString(CultureInfo.InvariantCulture), chunk[i].CallId);
                }

                update.CommandText = $"UPDATE \"FollowedTasks\" SET \"LeaseUntilMs\" = @lease WHERE \"LeaseUntilMs\" = @held AND \"CallId\" IN ({ids}) RETURNING \"CallId\"";
                update.Add("@lease", lease);
                update.Add("@held", group.Key);
                await using var reader = await update.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    set?.Add(reader.GetString(0));
                }
            }
        }
    }

    /// <summary>The most call ids in one statement (each a parameter; both engines take far more).</summary>
    private const int Chunk = 500;

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
