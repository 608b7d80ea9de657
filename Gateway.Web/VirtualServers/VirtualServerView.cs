using System.Text.Json;
using Gateway.Core.Catalog;
using Gateway.Core.VirtualServers;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// A virtual server over one catalog: its picks under its names and with its overrides. Each item keeps the upstream's
/// own definition (<see cref="ExposedTool.Upstream"/>), so pins, approvals and the definition hash see the real tool.
/// </summary>
internal sealed record VirtualServerView(VirtualServer Server, NamespacedCatalog<ExposedTool> Tools, NamespacedCatalog<ExposedTool> OfflineTools)
{
    public static VirtualServerView Build(VirtualServer server, GatewayCatalog catalog) =>
        new(server, VirtualCatalog.Build(catalog.Tools, server, Expose), VirtualCatalog.Build(catalog.OfflineTools, server, Expose));

    private static ExposedTool Expose(CatalogEntry<ExposedTool> entry, VirtualTool pick)
    {
        if (pick.Name is null && pick.Title is null && pick.Description is null && entry.ExposedName == pick.Tool)
        {
            return entry.Item;
        }

        // A copy: the gateway's own exposed tool is shared by every other view.
        var exposed = JsonSerializer.Deserialize<Tool>(JsonSerializer.SerializeToUtf8Bytes(entry.Item.Exposed, McpJsonUtilities.DefaultOptions), McpJsonUtilities.DefaultOptions)!;
        exposed.Name = pick.ExposedName;
        exposed.Title = pick.Title ?? exposed.Title;
        exposed.Description = pick.Description ?? exposed.Description;
        return entry.Item with { Exposed = exposed };
    }
}
