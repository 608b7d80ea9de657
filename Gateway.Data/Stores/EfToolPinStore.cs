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
        return [.. rows.Select(r => new ToolPin(r.Server, r.Tool, r.DefinitionSha256, r.PinnedAt, r.PinnedBy))];
    }

    public async Task<bool> AddIfAbsentAsync(ToolPin pin, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await db.ToolPins.AnyAsync(p => p.Server == pin.Server && p.Tool == pin.Tool, cancellationToken))
        {
            return false;
        }

        db.ToolPins.Add(ToRow(pin));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance pinned it first; its pin stands.
            return false;
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
            (row.DefinitionSha256, row.PinnedAt, row.PinnedBy) = (pin.DefinitionSha256, pin.PinnedAt, pin.PinnedBy);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static ToolPinEntity ToRow(ToolPin pin) =>
        new() { Server = pin.Server, Tool = pin.Tool, DefinitionSha256 = pin.DefinitionSha256, PinnedAt = pin.PinnedAt, PinnedBy = pin.PinnedBy };
}
