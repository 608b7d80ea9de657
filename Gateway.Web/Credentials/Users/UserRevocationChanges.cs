using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Writes revocations, whoever decides them (an admin, a console user's disabling, the identity provider's logout):
/// stored with their reason and committed with their audit entry (<see cref="IAdminChangeTransactions"/>: no revocation
/// or restoration without its entry, and none when the entry cannot be written), enforced on this instance at once (its
/// cached upstream tokens dropped) and on the others by the pushed change, audited under the ambient actor. The callers
/// authorize; this does not.
/// </summary>
internal sealed class UserRevocationChanges(IRevokedUserStore store, UserRevocations revocations, IAdminChangeTransactions transactions, TimeProvider time)
{
    /// <summary>Revokes <paramref name="user"/>; yields the revocation (audited when it changed something).</summary>
    /// <exception cref="Gateway.Core.Audit.AuditUnavailableException">The entry could not be written; nothing was revoked.</exception>
    public async Task<RevokedUser> RevokeAsync(string user, RevocationReason reason, string by, CancellationToken cancellationToken)
    {
        var revoked = new RevokedUser(user, by, time.GetUtcNow(), reason);
        await transactions.RunAsync(
            async entries =>
            {
                var write = await store.RevokeAsync(revoked, cancellationToken);
                var upgraded = write.Before is { } before && before.Reason != RevocationReason.Admin && reason == RevocationReason.Admin;
                if (write.Before is null || upgraded || write.UpstreamTokensDeleted > 0)
                {
                    // Revoking a revoked user changes something only when an admin's revocation takes the place of an
                    // automatic one, or when upstream accounts were connected meanwhile (another instance had not seen it
                    // yet): otherwise nothing is recorded and the transaction keeps nothing.
                    var after = write.Before is null || upgraded ? revoked : write.Before;
                    entries.Add(
                        "user",
                        user,
                        "revoke",
                        write.Before is null ? null : new { Revoked = true, write.Before.Reason },
                        new { after.RevokedBy, after.RevokedAt, after.Reason, UpstreamAccounts = "deleted" });
                }

                return true;
            },
            cancellationToken);

        // After the commit: this instance at once; the others on their next read of the database (a change notification
        // on PostgreSQL).
        revocations.Forget(user);
        await revocations.ReloadAsync(cancellationToken);
        return revoked;
    }

    /// <summary>Lets <paramref name="user"/> call again (only a revocation for <paramref name="onlyFor"/>, when given); false when there was none.</summary>
    /// <exception cref="Gateway.Core.Audit.AuditUnavailableException">The entry could not be written; the user stays revoked.</exception>
    public async Task<bool> RestoreAsync(string user, RevocationReason? onlyFor, CancellationToken cancellationToken)
    {
        var before = revocations.Find(user);
        var restored = await transactions.RunAsync(
            async entries =>
            {
                if (!await store.RestoreAsync(user, onlyFor, cancellationToken))
                {
                    return false;
                }

                entries.Add("user", user, "restore", new { Revoked = true, Reason = before?.Reason ?? onlyFor }, null);
                return true;
            },
            cancellationToken);
        if (restored)
        {
            await revocations.ReloadAsync(cancellationToken);
        }

        return restored;
    }
}
