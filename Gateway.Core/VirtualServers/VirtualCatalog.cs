using Gateway.Core.Catalog;

namespace Gateway.Core.VirtualServers;

/// <summary>What a virtual server exposes of the gateway's catalog: its picks that are exposed now, under its names.</summary>
public static class VirtualCatalog
{
    /// <summary>
    /// Picks the virtual server's tools out of <paramref name="catalog"/> (by server and original name, in the virtual
    /// server's order); a pick that is not exposed now (server down, tool gone or quarantined) is left out until it is.
    /// </summary>
    /// <param name="catalog">The gateway's catalog (online or offline tools).</param>
    /// <param name="server">The virtual server.</param>
    /// <param name="expose">Makes the item agents see from the upstream's entry and the pick's overrides.</param>
    public static NamespacedCatalog<TItem> Build<TItem>(NamespacedCatalog<TItem> catalog, VirtualServer server, Func<CatalogEntry<TItem>, VirtualTool, TItem> expose)
    {
        if (server.Tools.Count == 0)
        {
            return NamespacedCatalog<TItem>.Empty;
        }

        var byOrigin = new Dictionary<(string, string), CatalogEntry<TItem>>(catalog.Entries.Count);
        foreach (var entry in catalog.Entries)
        {
            byOrigin.TryAdd((entry.Server, entry.OriginalName), entry);
        }

        var picked = new List<CatalogEntry<TItem>>(server.Tools.Count);
        foreach (var tool in server.Tools)
        {
            if (byOrigin.TryGetValue((tool.Server, tool.Tool), out var entry))
            {
                picked.Add(entry with { ExposedName = tool.ExposedName, Item = expose(entry, tool) });
            }
        }

        return NamespacedCatalog<TItem>.Of(picked);
    }
}
