using Gateway.Core.Identity;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfConsoleUserStore(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IConsoleUserStore
{
    public async Task<ConsoleUser?> FindAsync(string userName, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ConsoleUsers.AsNoTracking().SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken);
        return row is null ? null : ToUser(row);
    }

    public async Task<ConsoleUser?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ConsoleUsers.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        return row is null ? null : ToUser(row);
    }

    public async Task<IReadOnlyList<ConsoleUser>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ConsoleUsers.AsNoTracking().OrderBy(u => u.Origin).ThenBy(u => u.DisplayName).ToListAsync(cancellationToken);
        return [.. rows.Select(ToUser)];
    }

    public async Task<bool> AnyLocalAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.ConsoleUsers.AnyAsync(u => u.Origin == Local, cancellationToken);
    }

    public async Task<bool> CreateAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (await db.ConsoleUsers.AnyAsync(u => u.UserName == user.UserName, cancellationToken))
        {
            return false;
        }

        db.ConsoleUsers.Add(new ConsoleUserEntity
        {
            UserName = user.UserName,
            DisplayName = user.DisplayName,
            Origin = user.Source == ConsoleUserSource.Local ? Local : Oidc,
            AssignedRoles = Join(user.AssignedRoles),
            PasswordHash = user.PasswordHash,
            MustChangePassword = user.MustChangePassword,
            Enabled = user.Enabled,
            CreatedAt = time.GetUtcNow(),
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Lost a race on the unique name.
            return false;
        }
    }

    public async Task<ConsoleUser> UpsertExternalAsync(string userName, string displayName, IReadOnlyList<string> providerRoles, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ConsoleUsers.SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken);
        if (row is null)
        {
            row = new ConsoleUserEntity { UserName = userName, DisplayName = displayName, Origin = Oidc, CreatedAt = now };
            db.ConsoleUsers.Add(row);
        }

        row.DisplayName = displayName;
        row.ProviderRoles = Join(providerRoles);
        row.LastSignInAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return ToUser(row);
    }

    public Task<bool> SetPasswordAsync(long id, string passwordHash, bool mustChange, CancellationToken cancellationToken) =>
        UpdateAsync(id, u =>
        {
            u.PasswordHash = passwordHash;
            u.MustChangePassword = mustChange;
        }, cancellationToken);

    public Task RecordSignInAsync(long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(id, u => u.LastSignInAt = now, cancellationToken);

    public async Task<ConsoleUserChange> ChangeKeepingAnAdminAsync(long id, IReadOnlyList<string>? roles, bool? enabled, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // SQLite's transactions are IMMEDIATE (writers one at a time from the first statement); PostgreSQL's are not, so
        // such changes take a lock of their own: the second reads the first's result. Inside an audited admin change the
        // context already runs in the change's transaction, which then commits it with its entry.
        await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (db.Database.IsPostgres())
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AdminsLock})", cancellationToken);
        }

        var rows = await db.ConsoleUsers.ToListAsync(cancellationToken);
        if (rows.SingleOrDefault(u => u.Id == id) is not { } row)
        {
            return new ConsoleUserChange(AdminKeepingChange.NotFound);
        }

        var before = ToUser(row);

        // A gateway already without an enabled admin (an identity provider took the role away at sign-in) still lets
        // its remaining users be changed: only a change that takes the last one away is refused.
        var hadAdmin = rows.Any(IsEnabledAdmin);

        if (roles is not null)
        {
            row.AssignedRoles = Join(roles);
        }

        if (enabled is { } value)
        {
            row.Enabled = value;
        }

        if (hadAdmin && !rows.Any(IsEnabledAdmin))
        {
            return new ConsoleUserChange(AdminKeepingChange.LastAdmin, before);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (tx is not null)
        {
            await tx.CommitAsync(cancellationToken);
        }

        return new ConsoleUserChange(AdminKeepingChange.Done, before, ToUser(row));
    }

    private static bool IsEnabledAdmin(ConsoleUserEntity user) => user.Enabled && ToUser(user).Roles.Contains(ConsoleRoles.Admin);

    /// <summary>The advisory lock key that serializes role and enabled changes on PostgreSQL ("cadmins" in ASCII).</summary>
    private const long AdminsLock = 0x6361646d696e73;

    private const string Local = "local";
    private const string Oidc = "oidc";

    private async Task<bool> UpdateAsync(long id, Action<ConsoleUserEntity> change, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ConsoleUsers.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (row is null)
        {
            return false;
        }

        change(row);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private static string Join(IEnumerable<string> roles) =>
        string.Join(',', ConsoleRoles.All.Where(r => roles.Contains(r, StringComparer.OrdinalIgnoreCase)));

    private static string[] Split(string roles) =>
        [.. roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ConsoleRoles.Normalize).OfType<string>()];

    private static ConsoleUser ToUser(ConsoleUserEntity row) => new()
    {
        Id = row.Id,
        UserName = row.UserName,
        DisplayName = row.DisplayName,
        Source = row.Origin == Local ? ConsoleUserSource.Local : ConsoleUserSource.Oidc,
        AssignedRoles = Split(row.AssignedRoles),
        ProviderRoles = Split(row.ProviderRoles),
        PasswordHash = row.PasswordHash,
        MustChangePassword = row.MustChangePassword,
        Enabled = row.Enabled,
        CreatedAt = row.CreatedAt,
        LastSignInAt = row.LastSignInAt,
    };
}
