using Gateway.Core.VirtualServers;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfAgentStore(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IAgentStore
{
    internal const string GeneratedSource = "generated";
    internal const string ConfigurationSource = "configuration";

    public async Task<IReadOnlyList<AgentRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await Query(db).OrderBy(a => a.Name).ToListAsync(cancellationToken);
        return [.. rows.Select(ToRecord)];
    }

    public async Task<(IReadOnlyList<AgentRecord> Items, int Total)> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var matching = string.IsNullOrWhiteSpace(search) ? db.Agents : db.Agents.Where(a => a.Name.Contains(search.Trim()));
        var total = await matching.CountAsync(cancellationToken);
        var names = await matching.OrderBy(a => a.Name).Skip(skip).Take(take).Select(a => a.Id).ToListAsync(cancellationToken);
        var rows = await Query(db).Where(a => names.Contains(a.Id)).OrderBy(a => a.Name).ToListAsync(cancellationToken);
        return ([.. rows.Select(ToRecord)], total);
    }

    public async Task<AgentRecord?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await Query(db).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        return row is null ? null : ToRecord(row);
    }

    public async Task<AgentRecord?> CreateAsync(string name, IReadOnlyList<string> grants, string keyHash, string keyHint, CancellationToken cancellationToken, string? owner = null)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await db.Agents.AnyAsync(a => a.Name == name, cancellationToken))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var row = new AgentEntity
        {
            Name = name,
            Owner = owner,
            CreatedAt = now,
            UpdatedAt = now,
            Grants = [.. grants.Select((g, i) => new AgentGrantEntity { Pattern = g, Position = i })],
            Keys = [new AgentKeyEntity { KeyHash = keyHash, Hint = keyHint, Origin = GeneratedSource, CreatedAt = now }],
        };
        db.Agents.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return null;
        }

        return ToRecord(row);
    }

    public async Task<AgentRecord?> UpdateAsync(string name, bool? enabled, IReadOnlyList<string>? grants, CancellationToken cancellationToken, IReadOnlyList<string>? tags = null)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.Include(a => a.Grants).Include(a => a.Keys).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        if (enabled is { } e)
        {
            row.Enabled = e;
        }

        if (grants is not null)
        {
            ReplaceGrants(db, row, grants);
        }

        if (tags is not null)
        {
            row.TagsJson = System.Text.Json.JsonSerializer.Serialize(tags);
        }

        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(row);
    }

    public async Task<AgentRecord?> SetLimitsAsync(string name, AgentLimits limits, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.Include(a => a.Grants).Include(a => a.Keys).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        ApplyLimits(row, limits);
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(row);
    }

    public async Task<AgentRecord?> SetDiscoveryAsync(string name, ToolDiscovery discovery, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.Include(a => a.Grants).Include(a => a.Keys).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        row.ToolSearch = discovery == ToolDiscovery.Search;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(row);
    }

    public async Task<AgentRecord?> SetOwnerAsync(string name, string? owner, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.Include(a => a.Grants).Include(a => a.Keys).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        row.Owner = owner;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(row);
    }

    public async Task<AgentKeyInfo?> AddKeyAsync(string name, string keyHash, string keyHint, bool revokeOthers, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.Include(a => a.Keys).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (revokeOthers)
        {
            foreach (var k in row.Keys.Where(k => k.RevokedAt is null))
            {
                k.RevokedAt = now;
            }
        }

        var key = new AgentKeyEntity { KeyHash = keyHash, Hint = keyHint, Origin = GeneratedSource, CreatedAt = now };
        row.Keys.Add(key);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return ToKeyInfo(key);
    }

    public async Task<bool> RevokeKeyAsync(string name, long keyId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var key = await db.AgentKeys.SingleOrDefaultAsync(
            k => k.Id == keyId && db.Agents.Any(a => a.Id == k.AgentId && a.Name == name), cancellationToken);
        if (key is null)
        {
            return false;
        }

        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Agents.SingleOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (row is null)
        {
            return false;
        }

        db.Agents.Remove(row);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<AgentCredentials>> LoadCredentialsAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await Query(db).Where(a => a.Enabled).ToListAsync(cancellationToken);
        return [.. rows.Select(r => new AgentCredentials(ToRecord(r), [.. r.Keys.Where(k => k.RevokedAt is null).Select(k => k.KeyHash)]))];
    }

    internal static void ReplaceGrants(GatewayDbContext db, AgentEntity row, IReadOnlyList<string> grants)
    {
        db.AgentGrants.RemoveRange(row.Grants);
        row.Grants.Clear();
        row.Grants.AddRange(grants.Select((g, i) => new AgentGrantEntity { Pattern = g, Position = i }));
    }

    /// <summary>Writes limits to the row; true when they changed.</summary>
    internal static bool ApplyLimits(AgentEntity row, AgentLimits limits)
    {
        if (LimitsOf(row) == limits)
        {
            return false;
        }

        (row.LimitRequestsPerMinute, row.LimitMaxConcurrent, row.LimitDailyQuota) = (limits.RequestsPerMinute, limits.MaxConcurrent, limits.DailyQuota);
        return true;
    }

    private static AgentLimits LimitsOf(AgentEntity a) =>
        a.LimitRequestsPerMinute is null && a.LimitMaxConcurrent is null && a.LimitDailyQuota is null
            ? AgentLimits.Inherit
            : new AgentLimits(a.LimitRequestsPerMinute, a.LimitMaxConcurrent, a.LimitDailyQuota);

    private static IQueryable<AgentEntity> Query(GatewayDbContext db) =>
        db.Agents.AsNoTracking().Include(a => a.Grants).Include(a => a.Keys).AsSplitQuery();

    internal static AgentRecord ToRecord(AgentEntity a) => new(
        a.Id,
        a.Name,
        a.Enabled,
        a.ManagedByConfiguration,
        [.. a.Grants.OrderBy(g => g.Position).Select(g => g.Pattern)],
        [.. a.Keys.OrderBy(k => k.Id).Select(ToKeyInfo)],
        a.CreatedAt)
    {
        Tags = System.Text.Json.JsonSerializer.Deserialize<List<string>>(a.TagsJson) ?? [],
        Owner = a.Owner,
        Limits = LimitsOf(a),
        Discovery = a.ToolSearch ? ToolDiscovery.Search : ToolDiscovery.List,
    };

    private static AgentKeyInfo ToKeyInfo(AgentKeyEntity k) => new(k.Id, k.Hint, k.CreatedAt, k.RevokedAt);
}
