using Gateway.Core.Audit;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfAuditCheckpointStore(IDbContextFactory<GatewayDbContext> factory) : IAuditCheckpointStore
{
    public async Task<(long Sequence, string Hash)?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var head = await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Sequence).Select(a => new { a.Sequence, a.Hash }).FirstOrDefaultAsync(cancellationToken);
        return head?.Hash is null ? null : (head.Sequence, head.Hash);
    }

    public async Task<AuditCheckpoint?> ReadLastAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var c = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.Sequence).FirstOrDefaultAsync(cancellationToken);
        return c is null ? null : new AuditCheckpoint(c.Sequence, c.Hash, c.CreatedAt, c.KeyId, c.Signature);
    }

    public async Task<bool> AddAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await db.AuditCheckpoints.AnyAsync(c => c.Sequence == checkpoint.Sequence, cancellationToken))
        {
            return false;
        }

        db.AuditCheckpoints.Add(new AuditCheckpointEntity { Sequence = checkpoint.Sequence, Hash = checkpoint.Hash, CreatedAt = checkpoint.CreatedAt, KeyId = checkpoint.KeyId, Signature = checkpoint.Signature });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance signed the same head between our check and our insert.
            return false;
        }
    }
}
