using Gateway.Core.Servers;

namespace Gateway.Web.Upstreams;

/// <summary>How a removal ended.</summary>
internal enum ServerRemoval
{
    Removed,
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
    public async Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var stored = await store.AddAsync(definition, cancellationToken);
        if (stored is not null)
        {
            await upstreams.ApplyAsync(stored);
        }

        return stored;
    }

    /// <summary>Unregisters and disconnects a server; servers owned by configuration are left to configuration.</summary>
    public async Task<ServerRemoval> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var existing = await store.FindAsync(name, cancellationToken);
        if (existing is null)
        {
            return ServerRemoval.NotFound;
        }

        if (existing.Definition.ManagedByConfiguration)
        {
            return ServerRemoval.ManagedByConfiguration;
        }

        await store.RemoveAsync(name, cancellationToken);
        await upstreams.RemoveAsync(name);
        return ServerRemoval.Removed;
    }
}
