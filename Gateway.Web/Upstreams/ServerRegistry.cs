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
    public async Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var stored = await store.AddAsync(definition, cancellationToken);
        if (stored is not null)
        {
            await upstreams.ApplyAsync(stored);
        }

        return stored;
    }

    /// <summary>Replaces a server's definition and reconnects it; servers owned by configuration are left to configuration.</summary>
    public async Task<(ServerChange Result, StoredServer? Server)> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken)
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

        var stored = await store.UpdateAsync(definition, cancellationToken);
        if (stored is null)
        {
            return (ServerChange.NotFound, null);
        }

        await upstreams.ApplyAsync(stored);
        return (ServerChange.Done, stored);
    }

    /// <summary>Unregisters and disconnects a server; servers owned by configuration are left to configuration.</summary>
    public async Task<ServerChange> RemoveAsync(string name, CancellationToken cancellationToken)
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
