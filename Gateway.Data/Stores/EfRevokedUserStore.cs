using Gateway.Core.Identity;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>The revoked users in <c>RevokedUsers</c>; a revocation also deletes the user's connected upstream accounts.</summary>
internal sealed class EfRevokedUserStore(IDbContextFactory<GatewayDbContext> factory) : IRevokedUserStore
{
    public async Task<IReadOnlyList<RevokedUser>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.RevokedUsers.AsNoTracking().ToListAsync(cancellationToken);
        return [.. rows.OrderBy(r => r.User, StringComparer.Ordinal).Select(r => new RevokedUser(r.User, r.RevokedBy, r.RevokedAt, r.Reason))];
    }

    public async Task<bool> RevokeAsync(RevokedUser revoked, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.UserUpstreamTokens.Where(t => t.User == revoked.User).ExecuteDeleteAsync(cancellationToken);
        var existing = await db.RevokedUsers.FirstOrDefaultAsync(r => r.User == revoked.User, cancellationToken);
        if (existing is null)
        {
            db.RevokedUsers.Add(new RevokedUserEntity { User = revoked.User, RevokedBy = revoked.RevokedBy, RevokedAt = revoked.RevokedAt, Reason = revoked.Reason });
        }
        else if (revoked.Reason == RevocationReason.Admin && existing.Reason != RevocationReason.Admin)
        {
            (existing.RevokedBy, existing.RevokedAt, existing.Reason) = (revoked.RevokedBy, revoked.RevokedAt, revoked.Reason);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return existing is null;
    }

    public async Task<bool> RestoreAsync(string user, RevocationReason? onlyFor, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = db.RevokedUsers.Where(r => r.User == user);
        if (onlyFor is { } reason)
        {
            rows = rows.Where(r => r.Reason == reason);
        }

        return await rows.ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
