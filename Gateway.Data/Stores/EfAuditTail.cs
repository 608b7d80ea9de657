using System.Globalization;
using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>Reads the chain forward with plain ADO.NET over a pooled connection: one index range per batch.</summary>
internal sealed class EfAuditTail(IDbContextFactory<GatewayDbContext> factory, GatewayDatabase database) : IAuditTail
{
    public async Task<long> ReadHeadAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(\"Sequence\"), 0) FROM \"AuditEntries\"";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<AuditChainEntry>> ReadAfterAsync(long after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT {AuditChainReader.ColumnList} FROM \"AuditEntries\" WHERE \"Sequence\" > @after ORDER BY \"Sequence\" LIMIT @limit";
        command.Add("@after", after);
        command.Add("@limit", limit);
        var entries = new List<AuditChainEntry>(Math.Min(limit, 1024));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(AuditChainReader.ReadEntry(reader, database.Dialect));
        }

        return entries;
    }
}
