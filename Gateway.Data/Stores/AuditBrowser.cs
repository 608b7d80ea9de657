using System.Data.Common;
using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>One page of the audit trail, and how many entries match (counted up to <see cref="AuditBrowser.CountLimit"/>).</summary>
/// <param name="TextSearchedAfter">When free text was searched without a time range: only entries after this sequence number were searched.</param>
public sealed record AuditPage(IReadOnlyList<AuditChainEntry> Entries, long Total, bool TotalIsLowerBound, long Head, long? TextSearchedAfter = null);

/// <summary>
/// Server-side paging, sorting and filtering of the audit trail for the console. Every sort is on an index that ends in
/// <c>Sequence</c>, so a page is an index range scan, not a sort of the table, also at millions of entries.
/// </summary>
public sealed class AuditBrowser(IDbContextFactory<GatewayDbContext> factory, GatewayDatabase database)
{
    /// <summary>Counting stops here: an exact count of a free-text match over millions of rows would cost a full scan.</summary>
    public const int CountLimit = 10_000;

    /// <summary>
    /// Free text without a time range searches the newest this many entries: a text match has no index and scans, and
    /// a scan of millions of rows takes seconds. A time range bounds the scan instead (through the timestamp index).
    /// </summary>
    public const int TextSearchWindow = 200_000;

    /// <summary>
    /// The sortable columns (each has an index with <c>Sequence</c>). Decision and outcome are filters, not sort keys:
    /// their indexes hold only the rare values (see <see cref="Configurations.AuditEntryEntityConfiguration"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> SortColumns = ["Sequence", "Actor", "Server", "Tool"];

    /// <summary>Reads one page.</summary>
    public async Task<AuditPage> QueryAsync(AuditFilter filter, string sort, bool descending, int skip, int take, CancellationToken cancellationToken)
    {
        if (!SortColumns.Contains(sort))
        {
            throw new ArgumentOutOfRangeException(nameof(sort), sort, "Not a sortable column.");
        }

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        var dialect = database.Dialect;

        long head;
        await using (var max = connection.CreateCommand())
        {
            max.CommandText = "SELECT COALESCE(MAX(\"Sequence\"), 0) FROM \"AuditEntries\"";
            head = Convert.ToInt64(await max.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        long? textFloor = !string.IsNullOrWhiteSpace(filter.Text) && filter.From is null && filter.To is null && head > TextSearchWindow ? head - TextSearchWindow : null;
        string Where(DbCommand command)
        {
            var where = AuditChainReader.Where(command, dialect, filter);
            if (textFloor is { } floor)
            {
                command.Add("@floor", floor);
                where += " AND \"Sequence\" > @floor";
            }

            return where;
        }

        var direction = descending ? "DESC" : "ASC";
        var order = sort == "Sequence" ? $"\"Sequence\" {direction}" : $"\"{sort}\" {direction}, \"Sequence\" {direction}";
        var entries = new List<AuditChainEntry>(take);
        await using (var page = connection.CreateCommand())
        {
            page.CommandText = $"SELECT {AuditChainReader.ColumnList} FROM \"AuditEntries\" {Where(page)} ORDER BY {order} LIMIT @take OFFSET @skip";
            page.Add("@take", take);
            page.Add("@skip", skip);
            await using var reader = await page.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(AuditChainReader.ReadEntry(reader, dialect));
            }
        }

        if (filter.IsEmpty)
        {
            // The sequence is gap-free from 1: the head is the count, without a scan.
            return new AuditPage(entries, head, false, head);
        }

        if (entries.Count < take && (entries.Count > 0 || skip == 0))
        {
            // The page query ran out of matches: it has counted them already (saves a second scan for rare matches).
            return new AuditPage(entries, skip + entries.Count, false, head, textFloor);
        }

        await using var count = connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM (SELECT 1 FROM \"AuditEntries\" {Where(count)} LIMIT {CountLimit + 1}) AS matches";
        var total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        return new AuditPage(entries, Math.Min(total, CountLimit), total > CountLimit, head, textFloor);
    }

    /// <summary>The checkpoint that covers an entry (the first at or after it), when one does.</summary>
    public async Task<AuditCheckpoint?> CoveringCheckpointAsync(long sequence, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var c = await db.AuditCheckpoints.AsNoTracking().Where(c => c.Sequence >= sequence).OrderBy(c => c.Sequence).FirstOrDefaultAsync(cancellationToken);
        return c is null ? null : new AuditCheckpoint(c.Sequence, c.Hash, c.CreatedAt, c.KeyId, c.Signature);
    }

    /// <summary>A reader over the same database, for verifying from the console.</summary>
    public AuditChainReader Reader() => new(database);
}
