using Gateway.Core.Identity;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to console users made by an admin (created, roles, enabled, password set or reset), never a
/// password or its hash, committed with the change (<see cref="IAdminChangeTransactions"/>). Sign-ins are recorded
/// apart (<see cref="AuditKinds.ConsoleLogin"/>).
/// </summary>
public sealed class AuditedConsoleUserStore(IConsoleUserStore inner, IAdminChangeTransactions changes) : IConsoleUserStore
{
    public Task<ConsoleUser?> FindAsync(string userName, CancellationToken cancellationToken) => inner.FindAsync(userName, cancellationToken);

    public Task<ConsoleUser?> GetAsync(long id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<ConsoleUser>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<bool> AnyLocalAsync(CancellationToken cancellationToken) => inner.AnyLocalAsync(cancellationToken);

    public Task<ConsoleUser> UpsertExternalAsync(string userName, string displayName, IReadOnlyList<string> providerRoles, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.UpsertExternalAsync(userName, displayName, providerRoles, now, cancellationToken);

    public Task RecordSignInAsync(long id, DateTimeOffset now, CancellationToken cancellationToken) => inner.RecordSignInAsync(id, now, cancellationToken);

    public Task<bool> CreateAsync(ConsoleUser user, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var created = await inner.CreateAsync(user, cancellationToken);
                if (created)
                {
                    entries.Add("console_user", user.UserName, "create", null, Describe(user));
                }

                return created;
            },
            cancellationToken);

    public Task<bool> SetPasswordAsync(long id, string passwordHash, bool mustChange, CancellationToken cancellationToken) =>
        ChangeAsync(id, mustChange ? "reset_password" : "set_password", () => inner.SetPasswordAsync(id, passwordHash, mustChange, cancellationToken), cancellationToken);

    public Task<ConsoleUserChange> ChangeKeepingAnAdminAsync(long id, IReadOnlyList<string>? roles, bool? enabled, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                // Before and after as the store read them under the change's lock: read here, before it, "before" could be
                // another admin's change ago.
                var result = await inner.ChangeKeepingAnAdminAsync(id, roles, enabled, cancellationToken);
                if (result is { Outcome: AdminKeepingChange.Done, Before: { } before, After: { } after })
                {
                    var action = roles is not null ? "set_roles" : enabled == true ? "enable" : "disable";
                    entries.Add("console_user", after.UserName, action, Describe(before), Describe(after));
                }

                return result;
            },
            cancellationToken);

    private Task<bool> ChangeAsync(long id, string action, Func<Task<bool>> change, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.GetAsync(id, cancellationToken);
                if (!await change())
                {
                    return false;
                }

                var after = await inner.GetAsync(id, cancellationToken);
                entries.Add("console_user", after?.UserName ?? before?.UserName ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture), action, Describe(before), Describe(after));
                return true;
            },
            cancellationToken);

    // What an auditor needs, and never the password hash.
    private static object? Describe(ConsoleUser? user) => user is null ? null : new
    {
        user.UserName,
        user.DisplayName,
        Source = user.Source.ToString(),
        user.AssignedRoles,
        user.ProviderRoles,
        user.Enabled,
        user.MustChangePassword,
    };
}
