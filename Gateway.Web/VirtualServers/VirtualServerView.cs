using System.Text.Json;
using Gateway.Core.Catalog;
using Gateway.Core.VirtualServers;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// A virtual server over one catalog: its picks under its names and with its overrides. Each tool keeps the upstream's
/// own definition (<see cref="ExposedTool.Upstream"/>), so pins, approvals and the definition hash see the real tool;
/// prompts and resources keep their upstream names and URIs in their entries, which is what is forwarded.
/// </summary>
internal sealed record VirtualServerView(
    VirtualServer Server,
    NamespacedCatalog<ExposedTool> Tools,
    NamespacedCatalog<ExposedTool> OfflineTools,
    NamespacedCatalog<ExposedPrompt> Prompts,
    VirtualResourceCatalog<Resource, ResourceTemplate> Resources)
{
    public static VirtualServerView Build(VirtualServer server, GatewayCatalog catalog) => new(
        server,
        VirtualCatalog.Build(catalog.Tools.Entries, server.Tools, Expose),
        VirtualCatalog.Build(catalog.OfflineTools.Entries, server.Tools, Expose),
        VirtualCatalog.Build(catalog.Prompts.Entries, server.Prompts, Expose),
        VirtualResourceCatalog<Resource, ResourceTemplate>.Build(catalog.Resources, server.Resources, Expose, Expose));

    private static ExposedTool Expose(CatalogEntry<ExposedTool> entry, VirtualTool pick)
    {
        if (pick.Name is null && pick.Title is null && pick.Description is null && entry.ExposedName == pick.Tool)
        {
            return entry.Item;
        }

        // A copy: the gateway's own exposed tool is shared by every other view.
        var exposed = Copy(entry.Item.Exposed);
        exposed.Name = pick.ExposedName;
        exposed.Title = pick.Title ?? exposed.Title;
        exposed.Description = pick.Description ?? exposed.Description;
        return entry.Item with { Exposed = exposed };
    }

    private static ExposedPrompt Expose(CatalogEntry<ExposedPrompt> entry, VirtualPrompt pick)
    {
        if (pick.Name is null && pick.Title is null && pick.Description is null && entry.ExposedName == pick.Prompt)
        {
            return entry.Item;
        }

        // From the upstream's prompt: /mcp's exposed one may carry the server's prefix.
        var exposed = Copy(entry.Item.Upstream);
        exposed.Name = pick.ExposedName;
        exposed.Title = pick.Title ?? exposed.Title;
        exposed.Description = pick.Description ?? exposed.Description;
        return entry.Item with { Exposed = exposed };
    }

    // A resource's entry holds the upstream's own item, under its upstream URI: that is what a virtual server exposes.
    private static Resource Expose(CatalogEntry<Resource> entry, VirtualResource pick)
    {
        if (pick.Title is null && pick.Description is null && pick.Name is null)
        {
            return entry.Item;
        }

        var exposed = Copy(entry.Item);
        exposed.Name = pick.Name ?? exposed.Name;
        exposed.Title = pick.Title ?? exposed.Title;
        exposed.Description = pick.Description ?? exposed.Description;
        return exposed;
    }

    private static ResourceTemplate Expose(CatalogEntry<ResourceTemplate> entry, VirtualResource pick)
    {
        if (pick.Title is null && pick.Description is null && pick.Name is null)
        {
            return entry.Item;
        }

        var exposed = Copy(entry.Item);
        exposed.Name = pick.Name ?? exposed.Name;
        exposed.Title = pick.Title ?? exposed.Title;
        exposed.Description = pick.Description ?? exposed.Description;
        return exposed;
    }

    private static T Copy<T>(T item) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(item, McpJsonUtilities.DefaultOptions), McpJsonUtilities.DefaultOptions)!;
}
