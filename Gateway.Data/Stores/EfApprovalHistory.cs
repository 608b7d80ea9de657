using Gateway.Core.Approvals;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>Approvals read for the console: a few indexed counts and the newest decided rows (the table holds held calls only, not every call).</summary>
internal sealed class EfApprovalHistory(IDbContextFactory<GatewayDbContext> factory) : IApprovalHistory
{
    private static readonly string Pending = ApprovalStatus.Pending.ToString();

    public async Task<ApprovalCounts> CountAsync(DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var approvals = db.Set<ApprovalEntity>().AsNoTracking();
        var requested = await approvals.CountAsync(a => a.CreatedAt >= since, cancellationToken);
        var pending = await approvals.CountAsync(a => a.Status == Pending && a.ExpiresAt > now, cancellationToken);
        return new ApprovalCounts(requested, pending);
    }

    public async Task<IReadOnlyList<Approval>> ListDecidedAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // The newest by creation (an indexed, converted column), then ordered by when each was decided: DecidedAt has
        // no converter, and SQLite cannot order DateTimeOffset text.
        var rows = await db.Set<ApprovalEntity>().AsNoTracking()
            .Where(a => a.Status != Pending || a.ExpiresAt <= now)
            .OrderByDescending(a => a.CreatedAt)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return
        [
            .. rows.Select(EfApprovalStore.ToApproval)
                .Select(a => a.Status == ApprovalStatus.Pending ? a with { Status = ApprovalStatus.Expired } : a)
                .OrderByDescending(a => a.DecidedAt ?? a.ExpiresAt),
        ];
    }
}
