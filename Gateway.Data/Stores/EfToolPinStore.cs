using Gateway.Core.Catalog;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfToolPinStore(IDbContextFactory<GatewayDbContext> factory) : IToolPinStore
{
    public async Task<IReadOnlyList<ToolPin>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ToolPins.AsNoTracking().ToListAsync(cancellationToken);
        return [.. rows.Select(r => new ToolPin(r.Server, r.Tool, r.DefinitionSha256, r.PinnedAt, r.PinnedBy, r.Definition))];
    }

    public async Task<int> AddMissingAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken)
    {
        if (pins.Count == 0)
        {
            return 0;
        }

        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var servers = pins.Select(p => p.Server).Distinct().ToList();
        var existing = (await db.ToolPins.Where(p => servers.Contains(p.Server)).Select(p => new { p.Server, p.Tool }).ToListAsync(cancellationToken))
            .Select(p => (p.Server, p.Tool)).ToHashSet();
        var missing = pins.Where(p => !existing.Contains((p.Server, p.Tool))).ToList();
        db.ToolPins.AddRange(missing.Select(ToRow));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return missing.Count;
        }
        catch (DbUpdateException)
        {
            // Another instance pinned some of them meanwhile; its pins stand, and the next review adds what is still missing.
            return 0;
        }
    }

    public async Task SetAsync(ToolPin pin, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ToolPins.SingleOrDefaultAsync(p => p.Server == pin.Server && p.Tool == pin.Tool, cancellationToken);
        if (row is null)
        {
            db.ToolPins.Add(ToRow(pin));
        }
        else
        {
            (row.DefinitionSha256, row.PinnedAt, row.PinnedBy, row.Definition) = (pin.DefinitionSha256, pin.PinnedAt, pin.PinnedBy, pin.Definition);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<int> ForgetAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var forgotten = 0;

        // In chunks: a first forgetting after an upgrade may cover thousands, and each chunk is one statement's parameters.
        foreach (var chunk in pins.GroupBy(p => p.Server).SelectMany(g => g.Chunk(500).Select(c => (Server: g.Key, Pins: c))))
        {
            var hashes = chunk.Pins.ToDictionary(p => p.Tool, p => p.DefinitionSha256, StringComparer.Ordinal);
            var tools = hashes.Keys.ToList();
            var rows = await db.ToolPins.Where(p => p.Server == chunk.Server && tools.Contains(p.Tool)).Select(p => new { p.Id, p.Tool, p.DefinitionSha256 }).ToListAsync(cancellationToken);
            var ids = rows.Where(r => hashes[r.Tool] == r.DefinitionSha256).Select(r => r.Id).ToList();
            forgotten += await db.ToolPins.Where(p => ids.Contains(p.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        return forgotten;
    }

    public async Task<int> KeepDefinitionsAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var kept = 0;
        foreach (var pin in pins.Where(p => p.Definition is not null))
        {
            // Only where the pin still holds this hash and no text: an admin's newer acceptance (on any instance) stands.
            kept += await db.ToolPins
                .Where(p => p.Server == pin.Server && p.Tool == pin.Tool && p.DefinitionSha256 == pin.DefinitionSha256 && p.Definition == null)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Definition, pin.Definition), cancellationToken);
        }

        return kept;
    }

    public async Task<IReadOnlyList<ToolRejection>> ListRejectionsAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ToolRejections.AsNoTracking().ToListAsync(cancellationToken);
        return [.. rows.Select(r => new ToolRejection(r.Server, r.Tool, r.DefinitionSha256, r.RejectedAt, r.RejectedBy))];
    }

    public async Task RejectAsync(ToolRejection rejection, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ToolRejections.SingleOrDefaultAsync(r => r.Server == rejection.Server && r.Tool == rejection.Tool, cancellationToken);
        if (row is null)
        {
            db.ToolRejections.Add(new ToolRejectionEntity { Server = rejection.Server, Tool = rejection.Tool, DefinitionSha256 = rejection.DefinitionSha256, RejectedAt = rejection.RejectedAt, RejectedBy = rejection.RejectedBy });
        }
        else
        {
            (row.DefinitionSha256, row.RejectedAt, row.RejectedBy) = (rejection.DefinitionSha256, rejection.RejectedAt, rejection.RejectedBy);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static ToolPinEntity ToRow(ToolPin pin) =>
        new() { Server = pin.Server, Tool = pin.Tool, DefinitionSha256 = pin.DefinitionSha256, PinnedAt = pin.PinnedAt, PinnedBy = pin.PinnedBy, Definition = pin.Definition };
}
