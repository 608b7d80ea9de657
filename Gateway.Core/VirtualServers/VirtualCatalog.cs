using Gateway.Core.Catalog;

namespace Gateway.Core.VirtualServers;

/// <summary>What a virtual server exposes of the gateway's catalog: its picks that are exposed now, under its names.</summary>
public static class VirtualCatalog
{
    /// <summary>
    /// Picks a virtual server's items out of <paramref name="catalog"/> (by server and original name, in the virtual
    /// server's order); a pick that is not exposed now (server down, item gone or quarantined) is left out until it is.
    /// </summary>
    /// <param name="catalog">The gateway's catalog of one kind (online or offline tools, prompts, resources, templates).</param>
    /// <param name="picks">The virtual server's picks of that kind.</param>
    /// <param name="expose">Makes the item agents see from the upstream's entry and the pick's overrides.</param>
    public static NamespacedCatalog<TItem> Build<TItem, TPick>(IReadOnlyList<CatalogEntry<TItem>> catalog, IReadOnlyList<TPick> picks, Func<CatalogEntry<TItem>, TPick, TItem> expose)
        where TPick : IVirtualPick
    {
        if (picks.Count == 0)
        {
            return NamespacedCatalog<TItem>.Empty;
        }

        var byOrigin = new Dictionary<(string, string), CatalogEntry<TItem>>(catalog.Count);
        foreach (var entry in catalog)
        {
            byOrigin.TryAdd((entry.Server, entry.OriginalName), entry);
        }

        var picked = new List<CatalogEntry<TItem>>(picks.Count);
        foreach (var pick in picks)
        {
            if (byOrigin.TryGetValue((pick.Server, pick.Original), out var entry))
            {
                picked.Add(entry with { ExposedName = pick.ExposedName, Item = expose(entry, pick) });
            }
        }

        return NamespacedCatalog<TItem>.Of(picked);
    }
}
