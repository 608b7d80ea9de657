using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfAuditStatistics(IDbContextFactory<GatewayDbContext> factory) : IAuditStatistics
{
    public async Task<AuditCounts> CountSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // One grouped scan of the time index's recent tail.
        var groups = await db.AuditEntries
            .Where(e => e.Kind == AuditKinds.ToolCall && e.Timestamp >= since)
            .GroupBy(e => new { e.Decision, e.Outcome })
            .Select(g => new { g.Key.Decision, g.Key.Outcome, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return new AuditCounts(
            groups.Sum(g => g.Count),
            groups.Where(g => g.Decision == "block").Sum(g => g.Count),
            groups.Where(g => g.Decision == "deny").Sum(g => g.Count),
            groups.Where(g => g.Outcome is AuditOutcomes.Error or AuditOutcomes.ToolError).Sum(g => g.Count));
    }
}
