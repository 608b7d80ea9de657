namespace Gateway.Core.Identity;

/// <summary>Console users (port; implemented over the database).</summary>
public interface IConsoleUserStore
{
    Task<ConsoleUser?> FindAsync(string userName, CancellationToken cancellationToken);

    Task<ConsoleUser?> GetAsync(long id, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConsoleUser>> ListAsync(CancellationToken cancellationToken);

    Task<bool> AnyLocalAsync(CancellationToken cancellationToken);

    /// <summary>Creates the user; false when the name is taken.</summary>
    Task<bool> CreateAsync(ConsoleUser user, CancellationToken cancellationToken);

    /// <summary>Creates or refreshes an OIDC user at sign-in (display name, provider roles, time); returns it.</summary>
    Task<ConsoleUser> UpsertExternalAsync(string userName, string displayName, IReadOnlyList<string> providerRoles, DateTimeOffset now, CancellationToken cancellationToken);

    Task<bool> SetPasswordAsync(long id, string passwordHash, bool mustChange, CancellationToken cancellationToken);

    Task RecordSignInAsync(long id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Assigns roles (<paramref name="roles"/>) or enables/disables (<paramref name="enabled"/>) a user unless that would
    /// leave no enabled admin. The check and the change are one transaction, serialized with every other such change
    /// (on any instance), so two admins taking each other's role at the same moment cannot both succeed.
    /// </summary>
    Task<ConsoleUserChange> ChangeKeepingAnAdminAsync(long id, IReadOnlyList<string>? roles, bool? enabled, CancellationToken cancellationToken);
}

/// <summary>
/// What <see cref="IConsoleUserStore.ChangeKeepingAnAdminAsync"/> did, with the user as it was and as it is when done,
/// both read inside the change's serialized transaction: what the audit entry says it changed from is what it changed,
/// however many admins change that user at the same moment.
/// </summary>
/// <param name="Outcome">Whether it was done.</param>
/// <param name="Before">The user before the change (when found).</param>
/// <param name="After">The user after it (when done).</param>
public sealed record ConsoleUserChange(AdminKeepingChange Outcome, ConsoleUser? Before = null, ConsoleUser? After = null);

/// <summary>What <see cref="IConsoleUserStore.ChangeKeepingAnAdminAsync"/> did.</summary>
public enum AdminKeepingChange
{
    /// <summary>The change is stored.</summary>
    Done,

    /// <summary>No such user.</summary>
    NotFound,

    /// <summary>Refused: no enabled admin would be left.</summary>
    LastAdmin,
}
