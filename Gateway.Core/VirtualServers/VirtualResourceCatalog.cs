using System.Text.RegularExpressions;
using Gateway.Core.Catalog;

namespace Gateway.Core.VirtualServers;

/// <summary>
/// The resources and resource templates a virtual server exposes now, under their upstream URIs, and the routing of a
/// URI to the upstream that reads it: a listed resource first, then the templates in the virtual server's order. A URI
/// that is neither is not the virtual server's, whatever <c>/mcp</c> would route it to.
/// </summary>
/// <typeparam name="TResource">The protocol type of a resource.</typeparam>
/// <typeparam name="TTemplate">The protocol type of a resource template.</typeparam>
public sealed class VirtualResourceCatalog<TResource, TTemplate>
{
    private readonly (Regex Pattern, CatalogEntry<TTemplate> Entry)[] _templates;

    private VirtualResourceCatalog(NamespacedCatalog<TResource> resources, NamespacedCatalog<TTemplate> templates)
    {
        Resources = resources;
        Templates = templates;
        _templates = [.. templates.Entries.Select(t => (ResourceCatalog<TResource, TTemplate>.TemplateRegex(t.OriginalName), t))];
    }

    /// <summary>Gets the exposed resources; <see cref="CatalogEntry{TItem}.ExposedName"/> is the URI.</summary>
    public NamespacedCatalog<TResource> Resources { get; }

    /// <summary>Gets the exposed templates; <see cref="CatalogEntry{TItem}.ExposedName"/> is the URI template.</summary>
    public NamespacedCatalog<TTemplate> Templates { get; }

    /// <summary>Picks the virtual server's resources and templates out of the gateway's resource catalog.</summary>
    /// <param name="catalog">The gateway's resource catalog.</param>
    /// <param name="picks">The virtual server's resource picks: each a resource's URI or a template's URI template.</param>
    /// <param name="exposeResource">Makes the resource agents see (the URI unchanged) from the upstream's and the pick's overrides.</param>
    /// <param name="exposeTemplate">Makes the template agents see likewise.</param>
    public static VirtualResourceCatalog<TResource, TTemplate> Build(
        ResourceCatalog<TResource, TTemplate> catalog,
        IReadOnlyList<VirtualResource> picks,
        Func<CatalogEntry<TResource>, VirtualResource, TResource> exposeResource,
        Func<CatalogEntry<TTemplate>, VirtualResource, TTemplate> exposeTemplate) =>
        new(VirtualCatalog.Build(catalog.Resources, picks, exposeResource), VirtualCatalog.Build(catalog.Templates, picks, exposeTemplate));

    /// <summary>The upstream that reads <paramref name="uri"/> for this virtual server, or null when none of its picks covers it.</summary>
    public (string Server, string OriginalUri)? Route(string uri)
    {
        if (Resources.TryResolve(uri, out var resource))
        {
            return (resource.Server, resource.OriginalName);
        }

        foreach (var (pattern, entry) in _templates)
        {
            try
            {
                if (pattern.IsMatch(uri))
                {
                    return (entry.Server, uri);
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // An agent's URI that takes a template this long to match is not one of its resources.
            }
        }

        return null;
    }
}
