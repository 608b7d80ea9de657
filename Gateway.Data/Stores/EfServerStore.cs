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
        row.CopyFrom(definition, protector);
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

        row.CopyFrom(definition, protector);
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
        var rows = await db.Servers.AsNoTracking().Where(s => s.CredentialCiphertext != null || s.SecretValuesCiphertext != null)
            .Select(s => new { s.Id, s.Name, s.CredentialCiphertext, s.SecretValuesCiphertext }).ToListAsync(cancellationToken);
        var count = 0;
        foreach (var row in rows)
        {
            if (row.CredentialCiphertext is { } credential && protector.Reprotect(row.Name, credential) is { } current)
            {
                // Only if the credential is still the one read: one set or rotated meanwhile is newer and must stay.
                count += await db.Servers.Where(s => s.Id == row.Id && s.CredentialCiphertext == credential)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.CredentialCiphertext, current), cancellationToken);
            }

            if (row.SecretValuesCiphertext is { } values && protector.ReprotectValues(row.Name, values) is { } currentValues)
            {
                count += await db.Servers.Where(s => s.Id == row.Id && s.SecretValuesCiphertext == values)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.SecretValuesCiphertext, currentValues), cancellationToken);
            }
        }

        return count + await SealClearSecretsAsync(cancellationToken);
    }

    /// <summary>
    /// Encrypts the secret-looking Env/Headers values, URLs and arguments that rows written before they were encrypted still hold in clear,
    /// and on SQLite leaves no copy of them in the file: <c>secure_delete</c> zeroes the space the old row occupied, and a
    /// checkpoint moves the new pages from the write-ahead log over the old ones and empties the log.
    /// </summary>
    private async Task<int> SealClearSecretsAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = (await db.Servers.AsNoTracking().ToListAsync(cancellationToken)).Where(r => r.HasClearSecrets()).ToList();
        if (rows.Count == 0)
        {
            return 0;
        }

        var sqlite = !db.Database.IsPostgres();
        if (sqlite)
        {
            // A connection held open for the context, so the pragma applies to the updates below; reset before it is pooled.
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA secure_delete = ON;", cancellationToken);
        }

        try
        {
            var count = 0;
            foreach (var row in rows)
            {
                var definition = row.ToDefinition(protector);
                if (definition.SecretValuesUnreadable)
                {
                    // Sealing would replace the unreadable ciphertext with the clear values alone: left for the admin.
                    continue;
                }

                var sealedRow = new ServerEntity { Name = row.Name, Transport = row.Transport };
                sealedRow.CopyFrom(definition, protector);

                // Only if the row is still the one read: a change made meanwhile was stored encrypted already.
                count += await db.Servers.Where(s => s.Id == row.Id && s.EnvJson == row.EnvJson && s.HeadersJson == row.HeadersJson && s.Url == row.Url && s.ArgsJson == row.ArgsJson)
                    .ExecuteUpdateAsync(
                        set => set.SetProperty(s => s.EnvJson, sealedRow.EnvJson).SetProperty(s => s.HeadersJson, sealedRow.HeadersJson)
                            .SetProperty(s => s.Url, sealedRow.Url).SetProperty(s => s.ArgsJson, sealedRow.ArgsJson)
                            .SetProperty(s => s.SecretValuesCiphertext, sealedRow.SecretValuesCiphertext),
                        cancellationToken);
            }

            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
            }

            return count;
        }
        finally
        {
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA secure_delete = OFF;", CancellationToken.None);
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Servers.Where(s => s.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
