using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfAuditCheckpointStore(IDbContextFactory<GatewayDbContext> factory, GatewayDatabase database) : IAuditCheckpointStore
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

    public async Task<IReadOnlyList<AuditCheckpoint>> ReadRangeAsync(long after, long upTo, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.AuditCheckpoints.AsNoTracking().Where(c => c.Sequence > after && c.Sequence <= upTo).OrderBy(c => c.Sequence).Take(limit).ToListAsync(cancellationToken);
        return [.. rows.Select(c => new AuditCheckpoint(c.Sequence, c.Hash, c.CreatedAt, c.KeyId, c.Signature))];
    }

    public async Task<bool> AddAsync(AuditCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        // ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): instances that sign the same head at once (at shutdown,
        // typically) agree without an error; a failed insert would be logged as a database failure by EF Core.
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = """
            INSERT INTO "AuditCheckpoints" ("Sequence", "Hash", "CreatedAt", "KeyId", "Signature")
            VALUES (@sequence, @hash, @created, @key, @signature)
            ON CONFLICT ("Sequence") DO NOTHING
            """;
        command.Add("@sequence", checkpoint.Sequence);
        command.Add("@hash", checkpoint.Hash);
        command.Add("@created", database.Dialect.Timestamp(checkpoint.CreatedAt));
        command.Add("@key", checkpoint.KeyId);
        command.Add("@signature", checkpoint.Signature);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
