namespace Gateway.Core.Identity;

/// <summary>A user (an OAuth caller's user claim) whose agents may no longer call anything through the gateway.</summary>
/// <param name="User">The user, as the access tokens name it.</param>
/// <param name="RevokedBy">The admin who revoked the user.</param>
/// <param name="RevokedAt">When.</param>
public sealed record RevokedUser(string User, string RevokedBy, DateTimeOffset RevokedAt)
{
    /// <summary>The longest user name stored; the OAuth caller's user is bounded the same way.</summary>
    public const int MaxUserLength = 256;
}

/// <summary>The revoked users, read into a set every instance checks on each request (never the database per call).</summary>
public interface IRevokedUserStore
{
    /// <summary>Lists every revoked user.</summary>
    Task<IReadOnlyList<RevokedUser>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the user and deletes the upstream tokens they connected, in one transaction; returns <see langword="false"/>
    /// when the user was already revoked (the tokens are deleted all the same).
    /// </summary>
    Task<bool> RevokeAsync(RevokedUser revoked, CancellationToken cancellationToken);

    /// <summary>Lets the user call again; returns <see langword="false"/> when the user was not revoked.</summary>
    Task<bool> RestoreAsync(string user, CancellationToken cancellationToken);
}
