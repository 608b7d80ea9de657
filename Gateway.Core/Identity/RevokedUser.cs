namespace Gateway.Core.Identity;

/// <summary>A user (an OAuth caller's user claim) whose agents may no longer call anything through the gateway.</summary>
/// <param name="User">The user, as the access tokens name it.</param>
/// <param name="RevokedBy">The admin who revoked the user, or what did (the identity provider's issuer).</param>
/// <param name="RevokedAt">When.</param>
/// <param name="Reason">Why: an admin's revocation, or one that follows the user's state elsewhere and is lifted with it.</param>
public sealed record RevokedUser(string User, string RevokedBy, DateTimeOffset RevokedAt, RevocationReason Reason = RevocationReason.Admin)
{
    /// <summary>The longest user name stored; the OAuth caller's user is bounded the same way.</summary>
    public const int MaxUserLength = 256;

    /// <summary>What the agent of a revoked user is told (never how to get around it).</summary>
    public string Refusal => Reason switch
    {
        RevocationReason.ConsoleUserDisabled => $"User '{User}' is disabled in the gateway's console: agents can no longer act for them through this gateway.",
        RevocationReason.IdentityProviderLogout => $"User '{User}' was signed out by their identity provider: agents can no longer act for them through this gateway until they sign in again.",
        _ => $"User '{User}' was revoked by an admin: agents can no longer act for them through this gateway.",
    };
}

/// <summary>Why a user is revoked; the automatic ones are lifted by what undoes their cause.</summary>
public enum RevocationReason
{
    /// <summary>An admin revoked the user (API or console); only an admin restores them.</summary>
    Admin,

    /// <summary>The console user was disabled; enabling them again lifts it.</summary>
    ConsoleUserDisabled,

    /// <summary>The identity provider signed the user out (OpenID Connect back-channel logout); signing in to the console through it again, or an admin, lifts it.</summary>
    IdentityProviderLogout,
}

/// <summary>The revoked users, read into a set every instance checks on each request (never the database per call).</summary>
public interface IRevokedUserStore
{
    /// <summary>Lists every revoked user.</summary>
    Task<IReadOnlyList<RevokedUser>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the user and deletes the upstream tokens they connected, in one transaction (the admin change's, when one
    /// runs); when the user was already revoked the tokens are deleted all the same. An admin's revocation takes the
    /// place of an automatic one, so that lifting the automatic cause no longer restores the user.
    /// </summary>
    /// <returns>The revocation there was before (<see langword="null"/> when none) and how many upstream tokens went.</returns>
    Task<RevocationWrite> RevokeAsync(RevokedUser revoked, CancellationToken cancellationToken);

    /// <summary>
    /// Lets the user call again; returns <see langword="false"/> when the user was not revoked, or (with
    /// <paramref name="onlyFor"/>) not for that reason.
    /// </summary>
    Task<bool> RestoreAsync(string user, RevocationReason? onlyFor, CancellationToken cancellationToken);
}

/// <summary>What a revocation found and did, so that its audit entry says only what changed.</summary>
/// <param name="Before">The user's revocation before it (<see langword="null"/> when they were not revoked).</param>
/// <param name="UpstreamTokensDeleted">How many upstream tokens the user had connected, now deleted.</param>
public sealed record RevocationWrite(RevokedUser? Before, int UpstreamTokensDeleted);
