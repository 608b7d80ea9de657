using System.Collections.Frozen;
using Gateway.Core.Agents;
using Gateway.Core.VirtualServers;
using Gateway.Web.Upstreams;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// The virtual servers in force (configuration's, then the stored ones) and their views over the current catalog:
/// an immutable snapshot swapped whole when either changes, and read lock-free on every request.
/// </summary>
internal sealed class VirtualServerDirectory
{
    private readonly UpstreamManager _upstreams;
    private readonly IReadOnlyList<VirtualServer> _configured;
    private readonly Lock _swap = new();
    private IReadOnlyList<VirtualServer> _stored = [];
    private Snapshot _current;

    public VirtualServerDirectory(UpstreamManager upstreams, IConfiguration configuration)
    {
        _upstreams = upstreams;
        _configured = VirtualServerOptions.Read(configuration);
        _current = Build(upstreams.Catalog);
        upstreams.CatalogChanged += catalog => Rebuild(catalog);
    }

    /// <summary>Raised after the snapshot changed (a virtual server was saved or deleted, or the catalog changed).</summary>
    public event Action? Changed;

    /// <summary>Gets every virtual server, configuration's first, then the stored ones by name.</summary>
    public IReadOnlyList<VirtualServer> All => _current.Servers;

    /// <summary>Gets the configured virtual servers (read-only through the API and the console).</summary>
    public IReadOnlyList<VirtualServer> Configured => _configured;

    /// <summary>The virtual server's view over the current catalog, or null when there is none of that name.</summary>
    public VirtualServerView? Find(string name)
    {
        var current = _current;
        if (!ReferenceEquals(current.Catalog, _upstreams.Catalog))
        {
            // The catalog changed and its event has not reached us yet: never serve a view of an older catalog.
            current = Rebuild(_upstreams.Catalog);
        }

        return current.Views.GetValueOrDefault(name);
    }

    /// <summary>
    /// Whether the agent may use the endpoint: <c>/mcp/{name}</c> (<paramref name="virtualServer"/>) or <c>/mcp</c> (null).
    /// An agent that no virtual server names may use every endpoint; one that some name may use only those.
    /// </summary>
    public bool Admits(AgentIdentity agent, string? virtualServer)
    {
        var current = _current;
        if (current.ByAgent.Count == 0)
        {
            return true;
        }

        var limited = false;
        if (current.ByAgent.TryGetValue(agent.Name, out var named))
        {
            limited = true;
            if (virtualServer is not null && named.Contains(virtualServer))
            {
                return true;
            }
        }

        foreach (var tag in agent.Tags)
        {
            if (current.ByAgent.TryGetValue("tag:" + tag, out var tagged))
            {
                limited = true;
                if (virtualServer is not null && tagged.Contains(virtualServer))
                {
                    return true;
                }
            }
        }

        return !limited;
    }

    /// <summary>Puts the stored virtual servers in force (a stored one of a configured name is ignored: configuration wins).</summary>
    public void UseStored(IReadOnlyList<VirtualServer> stored)
    {
        lock (_swap)
        {
            _stored = stored;
        }

        Rebuild(_upstreams.Catalog);
    }

    private Snapshot Rebuild(GatewayCatalog catalog)
    {
        Snapshot built;
        lock (_swap)
        {
            if (_current.Catalog.Version > catalog.Version)
            {
                return _current;
            }

            built = Build(catalog);
            _current = built;
        }

        Changed?.Invoke();
        return built;
    }

    private Snapshot Build(GatewayCatalog catalog)
    {
        var names = _configured.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var servers = _configured.Concat(_stored.Where(s => !names.Contains(s.Name))).ToList();
        var byAgent = servers
            .SelectMany(s => s.Agents.Select(a => (Agent: a, Server: s.Name)))
            .GroupBy(p => p.Agent, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(p => p.Server).ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);
        return new Snapshot(catalog, servers, servers.ToFrozenDictionary(s => s.Name, s => VirtualServerView.Build(s, catalog), StringComparer.Ordinal), byAgent);
    }

    /// <param name="ByAgent">The virtual servers that name each agent name or <c>tag:name</c>.</param>
    private sealed record Snapshot(GatewayCatalog Catalog, IReadOnlyList<VirtualServer> Servers, FrozenDictionary<string, VirtualServerView> Views, FrozenDictionary<string, FrozenSet<string>> ByAgent);
}
