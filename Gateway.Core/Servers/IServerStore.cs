using Gateway.Core.Credentials;

namespace Gateway.Core.Servers;

/// <summary>A server definition as stored, with its registration order.</summary>
public sealed record StoredServer(long Id, ServerDefinition Definition);

/// <summary>Persistence of server definitions.</summary>
public interface IServerStore
{
    /// <summary>Lists all servers in registration order.</summary>
    Task<IReadOnlyList<StoredServer>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Finds a server by name.</summary>
    Task<StoredServer?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds a server; <see langword="null"/> when the name is taken.</summary>
    Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken);

    /// <summary>Replaces a server's definition, keeping its credential; <see langword="null"/> when it does not exist.</summary>
    Task<StoredServer?> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken);

    /// <summary>Sets, replaces (rotates) or with <see langword="null"/> removes a server's credential; <see langword="null"/> when the server does not exist.</summary>
    /// <remarks>The credential is write-only, so it has its own operation: <see cref="UpdateAsync"/> ignores <see cref="ServerDefinition.Credential"/>.</remarks>
    Task<StoredServer?> SetCredentialAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken);

    /// <summary>
    /// Re-encrypts every credential and every set of secret Env/Headers values whose key is no longer the current one (see
    /// <see cref="ICredentialProtector.Reprotect"/>), and encrypts secret-looking Env/Headers values still stored in clear
    /// (rows written before they were encrypted); returns how many ciphertexts were written.
    /// </summary>
    /// <remarks>The secrets do not change, so neither does their rotation time.</remarks>
    Task<int> ReprotectCredentialsAsync(CancellationToken cancellationToken);

    /// <summary>Removes a server; <see langword="false"/> when it does not exist.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken);
}
