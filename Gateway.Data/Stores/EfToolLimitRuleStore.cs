using Gateway.Core.Limits;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfToolLimitRuleStore(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IToolLimitRuleStore
{
    public async Task<IReadOnlyList<ToolLimitRule>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ToolLimitRules.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken);

        // Rows are validated before they are written; one that no longer parses is skipped rather than half-applied.
        return [.. rows.Select(r => new ToolLimitRuleDocument(r.Name, r.Match, r.RequestsPerMinute, r.MaxConcurrent, r.DailyQuota).ToRule(new Dictionary<string, string[]>())).OfType<ToolLimitRule>()];
    }

    public async Task UpsertAsync(ToolLimitRule rule, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ToolLimitRules.SingleOrDefaultAsync(r => r.Name == rule.Name, cancellationToken);
        var now = time.GetUtcNow();
        if (row is null)
        {
            row = new ToolLimitRuleEntity { Name = rule.Name, Match = rule.Pattern, CreatedAt = now };
            db.ToolLimitRules.Add(row);
        }

        row.Match = rule.Pattern;
        (row.RequestsPerMinute, row.MaxConcurrent, row.DailyQuota) = (rule.Limits.RequestsPerMinute, rule.Limits.MaxConcurrent, rule.Limits.DailyQuota);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.ToolLimitRules.Where(r => r.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
