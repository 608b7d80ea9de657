namespace Gateway.Core.Credentials;

/// <summary>
/// The upstream accounts users connected themselves (<see cref="Servers.CredentialMode.PerUser"/>): one OAuth refresh
/// token per user and server, stored encrypted and bound to both, used only for that user's calls.
/// </summary>
public interface IUserUpstreamTokenStore
{
    /// <summary>Gets the user's credential at the server, or <see langword="null"/> when the user has not connected (or it cannot be decrypted).</summary>
    Task<UpstreamCredential?> FindAsync(string server, string user, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the user's credential at the server.</summary>
    Task SaveAsync(string server, string user, UpstreamCredential credential, CancellationToken cancellationToken);

    /// <summary>Deletes every credential of the user; returns how many there were.</summary>
    Task<int> DeleteUserAsync(string user, CancellationToken cancellationToken);
}
