using System.Collections.Frozen;
using Gateway.Core.Grants;
using Gateway.Core.Policy;

namespace Gateway.Core.Catalog;

/// <summary>
/// The union of the items (tools or prompts) of all connected upstreams, each under <c>{prefix}{name}</c>.
/// </summary>
/// <remarks>
/// Servers are taken in registration order: when two produce the same final name the earlier keeps it and the later
/// item is not exposed, with the collision recorded. Nothing is ever silently shadowed. Immutable, built when an
/// upstream's list changes, and read lock-free on every request.
/// </remarks>
/// <typeparam name="TItem">The protocol type of the item.</typeparam>
public sealed class NamespacedCatalog<TItem>
{
    private readonly FrozenDictionary<string, CatalogEntry<TItem>> _byName;
    private readonly FrozenDictionary<string, CatalogEntry<TItem>[]> _byUpstreamName;

    private NamespacedCatalog(IReadOnlyList<CatalogEntry<TItem>> entries, IReadOnlyList<NameCollision> collisions)
    {
        Entries = entries;
        Collisions = collisions;
        _byName = entries.ToFrozenDictionary(e => e.ExposedName, StringComparer.Ordinal);
        _byUpstreamName = entries.GroupBy(e => e.OriginalName, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Gets an empty catalog.</summary>
    public static NamespacedCatalog<TItem> Empty { get; } = new([], []);

    /// <summary>Gets the exposed entries, servers in registration order, items in upstream order.</summary>
    public IReadOnlyList<CatalogEntry<TItem>> Entries { get; }

    /// <summary>Gets the items that were not exposed because of a name collision.</summary>
    public IReadOnlyList<NameCollision> Collisions { get; }

    /// <summary>Builds a catalog from the servers' items, servers given in registration order.</summary>
    public static NamespacedCatalog<TItem> Build(IEnumerable<ServerItems<TItem>> servers)
    {
        var entries = new List<CatalogEntry<TItem>>();
        var collisions = new List<NameCollision>();
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            foreach (var (name, item) in server.Items)
            {
                var exposed = server.Prefix + name;
                if (owner.TryGetValue(exposed, out var existing))
                {
                    collisions.Add(new NameCollision(exposed, server.Server, name, existing));
                    continue;
                }

                owner[exposed] = server.Server;
                entries.Add(new CatalogEntry<TItem>(exposed, server.Server, name, item, server.Classify?.Invoke(item) ?? AccessClass.Write));
            }
        }

        return new NamespacedCatalog<TItem>(entries, collisions);
    }

    /// <summary>A catalog of entries named already (a virtual server's picks); the names must be distinct.</summary>
    public static NamespacedCatalog<TItem> Of(IReadOnlyList<CatalogEntry<TItem>> entries) => new(entries, []);

    /// <summary>Finds the entry exposed as <paramref name="exposedName"/>.</summary>
    public bool TryResolve(string exposedName, out CatalogEntry<TItem> entry) => _byName.TryGetValue(exposedName, out entry!);

    /// <summary>
    /// Finds the entry an agent means by <paramref name="name"/> when none is exposed under it: the one entry the grants
    /// allow whose upstream name it is. An MCP App calls its server's tools by the names that server gave them, through
    /// a host that knows only the gateway. Null when no granted entry has that upstream name, or when several do:
    /// <paramref name="candidates"/> then lists their exposed names (the name alone does not say which server is meant).
    /// Only granted entries count, so the answer never tells an agent about a tool it may not call.
    /// </summary>
    public CatalogEntry<TItem>? ResolveUpstreamName(string name, GrantSet grants, DateTimeOffset now, out IReadOnlyList<string> candidates)
    {
        candidates = [];
        if (!_byUpstreamName.TryGetValue(name, out var named))
        {
            return null;
        }

        CatalogEntry<TItem>? found = null;
        List<string>? several = null;
        foreach (var entry in named)
        {
            if (!grants.Allows(entry.Server, entry.OriginalName, entry.Class, now))
            {
                continue;
            }

            if (found is not null)
            {
                (several ??= [found.ExposedName]).Add(entry.ExposedName);
            }

            found ??= entry;
        }

        if (several is not null)
        {
            candidates = several;
            return null;
        }

        return found;
    }

    /// <summary>Returns the entries the grants allow at <paramref name="now"/> (tool and class), in catalog order.</summary>
    public IEnumerable<CatalogEntry<TItem>> VisibleTo(GrantSet grants, DateTimeOffset now) => Entries.Where(e => grants.Allows(e.Server, e.OriginalName, e.Class, now));

    /// <summary>Returns the entries of servers the grants name (used for prompts, which follow server grants).</summary>
    public IEnumerable<CatalogEntry<TItem>> OfServersVisibleTo(GrantSet grants, DateTimeOffset now) => Entries.Where(e => grants.AllowsAnyOf(e.Server, now));
}
