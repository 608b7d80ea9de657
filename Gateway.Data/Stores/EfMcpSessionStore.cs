using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfMcpSessionStore(IDbContextFactory<GatewayDbContext> factory) : IMcpSessionStore
{
    public async Task SaveAsync(McpSessionRecord session, DateTimeOffset forgetBefore, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // Expired rows go with each new session: the table holds at most the sessions of one retention period.
        await db.Set<McpSessionEntity>().Where(s => s.CreatedAt < forgetBefore).ExecuteDeleteAsync(cancellationToken);
        db.Add(new McpSessionEntity
        {
            Id = session.SessionId,
            AgentId = session.AgentId,
            KeyHash = session.KeyHash,
            InitializeJson = session.InitializeJson,
            CreatedAt = session.CreatedAt,
            Holders = session.Holders,
            VirtualServer = session.VirtualServer,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task DeleteAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Set<McpSessionEntity>().Where(s => s.Id == sessionId).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task AddHolderAsync(string sessionId, string instanceId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // One statement, so two instances taking the session over at once both end up in the list; bounded in length.
        var added = "," + instanceId;
        var room = IMcpSessionStore.MaxHoldersLength - added.Length;
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""UPDATE "McpSessions" SET "Holders" = "Holders" || {added} WHERE "Id" = {sessionId} AND length("Holders") <= {room}""",
            cancellationToken);
    }

    public async Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return (await db.Set<McpSessionEntity>().Where(s => sessionIds.Contains(s.Id)).Select(s => s.Id).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }

    public async Task<McpSessionRecord?> FindAsync(string sessionId, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<McpSessionEntity>().AsNoTracking().SingleOrDefaultAsync(s => s.Id == sessionId && s.CreatedAt >= notBefore, cancellationToken);
        return row is null ? null : new McpSessionRecord(row.Id, row.AgentId, row.KeyHash, row.InitializeJson, row.CreatedAt, row.Holders, row.VirtualServer);
    }
}
