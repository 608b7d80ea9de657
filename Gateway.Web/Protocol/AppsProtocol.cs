using System.Text.Json.Nodes;
using Gateway.Core.Catalog;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Protocol;

/// <summary>
/// The io.modelcontextprotocol/ui extension (MCP Apps) as the gateway relays it: a tool names its interface, a
/// <c>ui://</c> resource, in <c>_meta.ui.resourceUri</c> (or the older flat <c>_meta["ui/resourceUri"]</c>), and the
/// host reads that resource through the gateway. Several upstreams behind one endpoint may name the same URI (hosts
/// render only <c>ui://</c>, and servers pick short names such as <c>ui://widget/main.html</c>), so a reference is
/// exposed as the URI that reaches its own server's resource (<see cref="ResourceCatalog{TResource, TTemplate}.ExposeReference"/>):
/// unchanged when it does, rewritten (keeping the scheme) when it would reach another server's.
/// </summary>
internal static class AppsProtocol
{
    public const string ExtensionId = "io.modelcontextprotocol/ui";

    /// <summary>The MIME type of an MCP App's HTML interface, which a client declaring the extension names.</summary>
    public const string MimeType = "text/html;profile=mcp-app";

    private const string Ui = "ui";

    private const string ResourceUri = "resourceUri";

    private const string FlatResourceUri = "ui/resourceUri";

    /// <summary>
    /// The <c>_meta</c> of a tool definition or result with its interface reference exposed for <paramref name="server"/>;
    /// the same object when nothing changes, else a copy (the upstream's definition is kept as it came, for its pin).
    /// </summary>
    public static JsonObject? ExposeMeta(JsonObject? meta, string server, ResourceCatalog<Resource, ResourceTemplate> resources)
    {
        if (meta is null)
        {
            return null;
        }

        var nested = meta[Ui] is JsonObject ui && ui[ResourceUri] is JsonValue n && n.TryGetValue<string>(out var a) ? a : null;
        var flat = meta[FlatResourceUri] is JsonValue f && f.TryGetValue<string>(out var b) ? b : null;
        var exposedNested = nested is null ? null : resources.ExposeReference(server, nested);
        var exposedFlat = flat is null ? null : resources.ExposeReference(server, flat);
        if (exposedNested == nested && exposedFlat == flat)
        {
            return meta;
        }

        var copy = (JsonObject)meta.DeepClone();
        if (exposedNested != nested)
        {
            copy[Ui]![ResourceUri] = exposedNested;
        }

        if (exposedFlat != flat)
        {
            copy[FlatResourceUri] = exposedFlat;
        }

        return copy;
    }

    /// <summary>
    /// Exposes, in place, the resource references of a result of <paramref name="server"/>: its <c>_meta</c> interface,
    /// resource links and embedded resources. A result is the gateway's own copy, read from the upstream for this call.
    /// </summary>
    public static CallToolResult ExposeResult(CallToolResult result, string server, ResourceCatalog<Resource, ResourceTemplate> resources)
    {
        result.Meta = ExposeMeta(result.Meta, server, resources);

        // An upstream's "content": null reads as null, though the type says otherwise: the agent gets an empty list.
        result.Content ??= [];
        foreach (var block in result.Content)
        {
            switch (block)
            {
                case ResourceLinkBlock { Uri: not null } link:
                    link.Uri = resources.ExposeReference(server, link.Uri);
                    break;
                case EmbeddedResourceBlock { Resource.Uri: not null } embedded:
                    embedded.Resource.Uri = resources.ExposeReference(server, embedded.Resource.Uri);
                    break;
            }
        }

        return result;
    }
}
