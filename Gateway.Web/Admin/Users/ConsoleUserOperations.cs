using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Identity;

namespace Gateway.Web.Admin.Users;

/// <summary>
/// What an admin does to console users (there is no REST path for users; the Settings page is the one caller):
/// the role check and the audit actor here, the rules (name, the last enabled admin) in <see cref="ConsoleAccounts"/>,
/// which bootstrap and sign-in use too.
/// </summary>
internal sealed class ConsoleUserOperations(
    ConsoleAccounts accounts, IConsoleUserStore users, UserRevocationChanges revocations, UserRevocations enforced, IAdminChangeTransactions transactions, IAdminActor actor, Gateway.Web.Authentication.OAuth.AgentOAuthSettings oauth)
{
    /// <summary>
    /// Changes the caller's own password (any signed-in local user, whatever their roles): the current one checked,
    /// the new one's rules by field, audited as the user's own change. Yields the user, no longer bound to change it.
    /// </summary>
    public async Task<AdminResult<ConsoleUser>> ChangeOwnPasswordAsync(PasswordChange change, CancellationToken cancellationToken)
    {
        var caller = await actor.CurrentAsync();
        if (caller.User.Identity?.IsAuthenticated != true)
        {
            return AdminResult.Forbidden("Sign in to change your password.");
        }

        if (caller.User.GetUserId() is not { } id)
        {
            return AdminResult.Invalid(new Dictionary<string, string[]> { ["currentPassword"] = ["Only local accounts have a password here; your identity provider manages yours."] }, "The password was not changed.");
        }

        using var audit = caller.Audit();
        var (user, errors) = await accounts.ChangePasswordAsync(id, change, cancellationToken);
        return user is not null ? AdminResult.Done(user) : AdminResult.Invalid(errors, "The password was not changed.");
    }

    /// <summary>Every console user with their roles.</summary>
    public async Task<AdminResult<IReadOnlyList<ConsoleUser>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        return refusal ?? AdminResult.Done(await users.ListAsync(cancellationToken));
    }

    /// <summary>Creates a local user; yields their one-time password (shown once, changed at first sign-in).</summary>
    public async Task<AdminResult<string>> CreateAsync(string? userName, string? displayName, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var (password, errors) = await accounts.CreateLocalAsync(userName, displayName, roles, cancellationToken);
        return password is not null ? AdminResult.Done(password) : AdminResult.Invalid(errors, "The user is invalid.");
    }

    /// <summary>Assigns roles; refused (conflict) when it would leave no enabled admin.</summary>
    public async Task<AdminResult> SetRolesAsync(long id, IReadOnlyList<string> roles, CancellationToken cancellationToken) =>
        await ChangeAsync(id, () => accounts.SetRolesAsync(id, roles, cancellationToken), cancellationToken);

    /// <summary>
    /// Enables or disables a user; refused (conflict) when it would leave no enabled admin. A disabled user is revoked
    /// too (reason: disabled), so the access tokens their agents already hold stop working on every instance at once
    /// rather than at their expiry; enabling them lifts that revocation (not one an admin made). The user's state, the
    /// revocations and their entries are one transaction: a refused entry leaves the user as they were, never disabled
    /// with their tokens still working.
    /// </summary>
    public async Task<AdminResult> SetEnabledAsync(long id, bool enabled, CancellationToken cancellationToken) =>
        await ChangeAsync(
            id,
            async () =>
            {
                try
                {
                    return await transactions.RunAsync(
                        async _ =>
                        {
                            if (await accounts.SetEnabledAsync(id, enabled, cancellationToken) is { } problem)
                            {
                                return problem;
                            }

                            // Under both names: an OIDC user of the issuer agents' tokens come from is sub@host here and the
                            // bare sub in those tokens (revoking sub@host alone left their agents' tokens working).
                            var user = (await users.GetAsync(id, cancellationToken))!;
                            foreach (var name in new[] { user.UserName, AgentsUser.Of(user, oauth) }.Distinct(StringComparer.Ordinal))
                            {
                                if (enabled)
                                {
                                    await revocations.RestoreAsync(name, RevocationReason.ConsoleUserDisabled, cancellationToken);
                                }
                                else
                                {
                                    await revocations.RevokeAsync(name, RevocationReason.ConsoleUserDisabled, AuditActor.Current, cancellationToken);
                                }
                            }

                            return (string?)null;
                        },
                        cancellationToken);
                }
                finally
                {
                    // The revocations were read back inside the transaction: read again what was committed (nothing,
                    // when it failed), so this instance enforces exactly that.
                    await enforced.ReloadAsync(CancellationToken.None);
                }
            },
            cancellationToken);

    /// <summary>Gives a local user a new one-time password (yielded once).</summary>
    public async Task<AdminResult<string>> ResetPasswordAsync(long id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await accounts.ResetPasswordAsync(id, cancellationToken) is { } password
            ? AdminResult.Done(password)
            : AdminResult.NotFound("No local user with this id (users of the identity provider have no password here).");
    }

    private async Task<AdminResult> ChangeAsync(long id, Func<Task<string?>> change, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (await users.GetAsync(id, cancellationToken) is null)
        {
            return AdminResult.NotFound("No such user.");
        }

        using var audit = caller.Audit();
        return await change() is { } problem ? AdminResult.Conflict(problem) : AdminResult.Done();
    }
}
