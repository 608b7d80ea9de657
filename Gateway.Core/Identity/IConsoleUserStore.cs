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

    Task<bool> SetRolesAsync(long id, IReadOnlyList<string> roles, CancellationToken cancellationToken);

    Task<bool> SetEnabledAsync(long id, bool enabled, CancellationToken cancellationToken);

    Task RecordSignInAsync(long id, DateTimeOffset now, CancellationToken cancellationToken);
}
