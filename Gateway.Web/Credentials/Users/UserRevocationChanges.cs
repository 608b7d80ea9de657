using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Writes revocations, whoever decides them (an admin, a console user's disabling, the identity provider's logout):
/// stored with their reason, enforced on this instance at once (its cached upstream tokens dropped) and on the others
/// by the pushed change, and audited under the ambient actor. The callers authorize; this does not.
/// </summary>
internal sealed class UserRevocationChanges(IRevokedUserStore store, UserRevocations revocations, AdminChangeRecorder recorder, TimeProvider time)
{
    /// <summary>Revokes <paramref name="user"/>; yields the revocation (audited only when the user was not revoked yet).</summary>
    public async Task<RevokedUser> RevokeAsync(string user, RevocationReason reason, string by, CancellationToken cancellationToken)
    {
        var revoked = new RevokedUser(user, by, time.GetUtcNow(), reason);
        var added = await store.RevokeAsync(revoked, cancellationToken);

        // This instance at once; the others on their next read of the database (a change notification on PostgreSQL).
        revocations.Forget(user);
        await revocations.ReloadAsync(cancellationToken);
        if (added)
        {
            await recorder.RecordAsync("user", user, "revoke", null, new { revoked.RevokedBy, revoked.RevokedAt, revoked.Reason, UpstreamAccounts = "deleted" });
        }

        return revoked;
    }

    /// <summary>Lets <paramref name="user"/> call again (only a revocation for <paramref name="onlyFor"/>, when given); false when there was none.</summary>
    public async Task<bool> RestoreAsync(string user, RevocationReason? onlyFor, CancellationToken cancellationToken)
    {
        var before = revocations.Find(user);
        if (!await store.RestoreAsync(user, onlyFor, cancellationToken))
        {
            return false;
        }

        await revocations.ReloadAsync(cancellationToken);
        await recorder.RecordAsync("user", user, "restore", new { Revoked = true, Reason = before?.Reason ?? onlyFor }, null);
        return true;
    }
}
