using Gateway.Core.Credentials;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The users' own upstream accounts in <c>UserUpstreamTokens</c>. Each ciphertext is bound to its server and user (the
/// protector's purpose is both, which no server name can be), so a row copied to another user does not decrypt.
/// </summary>
internal sealed class EfUserUpstreamTokenStore(IDbContextFactory<GatewayDbContext> factory, ICredentialProtector protector, TimeProvider time) : IUserUpstreamTokenStore
{
    public async Task<UpstreamCredential?> FindAsync(string server, string user, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.UserUpstreamTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Server == server && t.User == user, cancellationToken);
        return row is null ? null : protector.Unprotect(Binding(server, user), row.CredentialCiphertext);
    }

    public async Task SaveAsync(string server, string user, UpstreamCredential credential, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var row = await db.UserUpstreamTokens.FirstOrDefaultAsync(t => t.Server == server && t.User == user, cancellationToken);
        if (row is null)
        {
            row = new UserUpstreamTokenEntity { Server = server, User = user, CredentialCiphertext = string.Empty, CreatedAt = now };
            db.UserUpstreamTokens.Add(row);
        }

        row.CredentialCiphertext = protector.Protect(Binding(server, user), credential);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<int> DeleteUserAsync(string user, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.UserUpstreamTokens.Where(t => t.User == user).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The protector's binding: server and user, joined by a character no server name holds.</summary>
    internal static string Binding(string server, string user) => server + "\n" + user;
}
