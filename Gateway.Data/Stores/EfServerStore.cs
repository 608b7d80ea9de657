using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfServerStore(IDbContextFactory<GatewayDbContext> factory, ICredentialProtector protector, TimeProvider time) : IServerStore
{
    public async Task<IReadOnlyList<StoredServer>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Servers.AsNoTracking().OrderBy(s => s.Id).ToListAsync(cancellationToken);
        return [.. rows.Select(r => r.ToStored(protector))];
    }

    public async Task<StoredServer?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Servers.AsNoTracking().SingleOrDefaultAsync(s => s.Name == name, cancellationToken);
        return row?.ToStored(protector);
    }

    public async Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await db.Servers.AnyAsync(s => s.Name == definition.Name, cancellationToken))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var row = new ServerEntity { Name = definition.Name, Transport = string.Empty, CreatedAt = now, UpdatedAt = now };
        row.CopyFrom(definition);
        row.WriteCredential(definition.Credential, protector, now);
        db.Servers.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Lost a race with another writer for the same name: the unique index decided.
            return null;
        }

        return row.ToStored(protector);
    }

    public async Task<StoredServer?> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Servers.SingleOrDefaultAsync(s => s.Name == definition.Name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        row.CopyFrom(definition);
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return row.ToStored(protector);
    }

    public async Task<StoredServer?> SetCredentialAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Servers.SingleOrDefaultAsync(s => s.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        row.WriteCredential(credential, protector, now);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return row.ToStored(protector);
    }

    public async Task<int> ReprotectCredentialsAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Servers.AsNoTracking().Where(s => s.CredentialCiphertext != null)
            .Select(s => new { s.Id, s.Name, Ciphertext = s.CredentialCiphertext! }).ToListAsync(cancellationToken);
        var count = 0;
        foreach (var row in rows)
        {
            if (protector.Reprotect(row.Name, row.Ciphertext) is not { } current)
            {
                continue;
            }

            // Only if the credential is still the one read: one set or rotated meanwhile is newer and must stay.
            count += await db.Servers.Where(s => s.Id == row.Id && s.CredentialCiphertext == row.Ciphertext)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.CredentialCiphertext, current), cancellationToken);
        }

        return count;
    }

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Servers.Where(s => s.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
