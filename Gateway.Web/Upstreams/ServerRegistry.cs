using Gateway.Core.Credentials;
using Gateway.Core.Servers;

namespace Gateway.Web.Upstreams;

/// <summary>How a change of a registered server ended.</summary>
internal enum ServerChange
{
    Done,
    NotFound,
    ManagedByConfiguration,
}

/// <summary>
/// Registers and unregisters servers at runtime for the admin API and the console: the store first (it is what every
/// instance reloads from), then this instance's pool, so the change is live without a restart.
/// </summary>
internal sealed class ServerRegistry(IServerStore store, UpstreamManager upstreams)
{
    /// <summary>Registers and connects a server; <see langword="null"/> when the name is taken.</summary>
    public Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken) =>
        upstreams.SerializeAsync(() => AddCoreAsync(definition, cancellationToken), cancellationToken);

    /// <summary>
    /// Sets, rotates or (with <see langword="null"/>) removes a server's credential and reconnects it with the new one,
    /// so the next call uses it without a restart: an HTTP upstream gets a new session, a stdio child is started with
    /// the new environment. The new connection is made before the old one closes (stdin closed, killed only after its
    /// shutdown timeout), so calls keep working across the rotation.
    /// </summary>
    /// <returns>The stored server, or <see langword="null"/> when it does not exist.</returns>
    public Task<StoredServer?> SetCredentialAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken) =>
        upstreams.SerializeAsync(() => SetCredentialCoreAsync(name, credential, cancellationToken), cancellationToken);

    /// <summary>Replaces a server's definition and reconnects it; servers owned by configuration are left to configuration.</summary>
    public Task<(ServerChange Result, StoredServer? Server)> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken) =>
        upstreams.SerializeAsync(() => UpdateCoreAsync(definition, cancellationToken), cancellationToken);

    /// <summary>Unregisters and disconnects a server; servers owned by configuration are left to configuration.</summary>
    public Task<ServerChange> RemoveAsync(string name, CancellationToken cancellationToken) =>
        upstreams.SerializeAsync(() => RemoveCoreAsync(name, cancellationToken), cancellationToken);

    private async Task<StoredServer?> AddCoreAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var stored = await store.AddAsync(definition, cancellationToken);
        if (stored is not null)
        {
            await upstreams.ApplyAsync(stored);
        }

        return stored;
    }

    private async Task<StoredServer?> SetCredentialCoreAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken)
    {
        var stored = await store.SetCredentialAsync(name, credential, cancellationToken);
        if (stored is not null)
        {
            await upstreams.ReplaceAsync(stored);
        }

        return stored;
    }

    private async Task<(ServerChange Result, StoredServer? Server)> UpdateCoreAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var existing = await store.FindAsync(definition.Name, cancellationToken);
        if (existing is null)
        {
            return (ServerChange.NotFound, null);
        }

        if (existing.Definition.ManagedByConfiguration)
        {
            return (ServerChange.ManagedByConfiguration, null);
        }

        // Without a credential in the definition the stored one stays; with one, it is replaced (encrypted) too.
        var stored = await store.UpdateAsync(definition, cancellationToken);
        if (stored is not null && definition.Credential is not null)
        {
            stored = await store.SetCredentialAsync(definition.Name, definition.Credential, cancellationToken);
        }

        if (stored is null)
        {
            return (ServerChange.NotFound, null);
        }

        await upstreams.ApplyAsync(stored);
        return (ServerChange.Done, stored);
    }

    private async Task<ServerChange> RemoveCoreAsync(string name, CancellationToken cancellationToken)
    {
        var existing = await store.FindAsync(name, cancellationToken);
        if (existing is null)
        {
            return ServerChange.NotFound;
        }

        if (existing.Definition.ManagedByConfiguration)
        {
            return ServerChange.ManagedByConfiguration;
        }

        await store.RemoveAsync(name, cancellationToken);
        await upstreams.RemoveAsync(name);
        return ServerChange.Done;
    }
}
