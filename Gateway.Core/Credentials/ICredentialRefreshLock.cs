namespace Gateway.Core.Credentials;

/// <summary>
/// Serializes the refreshes of one refresh-token chain across the instances that share a database. An authorization
/// server that rotates refresh tokens spends the old one at each use: two instances refreshing with the same token get
/// one of them refused, and a server that detects the reuse revokes the whole grant. Under the lock an instance reads
/// the stored refresh token, refreshes with it and stores the rotated one before the next instance reads it.
/// </summary>
public interface ICredentialRefreshLock
{
    /// <summary>Waits for the lock of <paramref name="chain"/>; it is held until the returned handle is disposed.</summary>
    /// <param name="chain">Names the refresh token chain (a server's credential, or a user's account at a server).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    ValueTask<IAsyncDisposable> AcquireAsync(string chain, CancellationToken cancellationToken);
}
