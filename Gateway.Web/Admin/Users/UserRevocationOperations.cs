using Gateway.Core.Identity;
using Gateway.Web.Credentials.Users;

namespace Gateway.Web.Admin.Users;

/// <summary>
/// Revoking the users agents act for (OAuth callers): their agents' requests are refused from the next one on every
/// instance, and their connected upstream accounts and cached upstream tokens are deleted. Audited under the caller.
/// </summary>
internal sealed class UserRevocationOperations(IRevokedUserStore store, UserRevocationChanges changes, IAdminActor actor)
{
    /// <summary>Every revoked user.</summary>
    public async Task<AdminResult<IReadOnlyList<RevokedUser>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? AdminResult.Done(await store.ListAsync(cancellationToken));
    }

    /// <summary>Revokes <paramref name="user"/> (the user claim of their access tokens); revoking twice is not an error.</summary>
    public async Task<AdminResult<RevokedUser>> RevokeAsync(string? user, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Invalid(user) is { } errors)
        {
            return AdminResult.Invalid(errors, "The user was not revoked.");
        }

        using var audit = caller.Audit();
        return AdminResult.Done(await changes.RevokeAsync(user!, RevocationReason.Admin, caller.Name, cancellationToken));
    }

    /// <summary>Lets the user's agents call again (the user connects their upstream accounts again).</summary>
    public async Task<AdminResult> RestoreAsync(string user, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await changes.RestoreAsync(user, null, cancellationToken) ? AdminResult.Done() : AdminResult.NotFound($"User '{user}' is not revoked.");
    }

    private static Dictionary<string, string[]>? Invalid(string? user) =>
        string.IsNullOrWhiteSpace(user) ? new() { ["user"] = ["Name the user, as their access tokens do (the user claim, sub by default)."] }
        : user.Length > RevokedUser.MaxUserLength ? new() { ["user"] = [$"A user has at most {RevokedUser.MaxUserLength} characters."] }
        : user.Trim() != user ? new() { ["user"] = ["The user may not start or end with spaces."] }
        : null;
}
