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

    public async Task<RevocationWrite> RevokeAsync(RevokedUser revoked, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // Its own transaction, unless it joins an admin change's (which then commits it with the change's entry).
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var deleted = await db.UserUpstreamTokens.Where(t => t.User == revoked.User).ExecuteDeleteAsync(cancellationToken);
        var existing = await db.RevokedUsers.FirstOrDefaultAsync(r => r.User == revoked.User, cancellationToken);
        var before = existing is null ? null : new RevokedUser(existing.User, existing.RevokedBy, existing.RevokedAt, existing.Reason);
        if (existing is null)
        {
            db.RevokedUsers.Add(new RevokedUserEntity { User = revoked.User, RevokedBy = revoked.RevokedBy, RevokedAt = revoked.RevokedAt, Reason = revoked.Reason });
        }
        else if (revoked.Reason == RevocationReason.Admin && existing.Reason != RevocationReason.Admin)
        {
            (existing.RevokedBy, existing.RevokedAt, existing.Reason) = (revoked.RevokedBy, revoked.RevokedAt, revoked.Reason);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return new RevocationWrite(before, deleted);
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
