using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Core.Grants;

namespace Gateway.Core.Catalog;

/// <summary>
/// Routes resource URIs to the upstream that owns them, rewriting a URI only when two upstreams would clash.
/// </summary>
/// <remarks>
/// A resource or template keeps its upstream URI when it is unique, so clients see what the server publishes. When an
/// earlier server already exposes the same URI (or template), the later one is exposed as
/// <c>mcpgw://{server}/{original}</c>; such a URI always routes to its server, whatever else is registered. An MCP Apps
/// interface (<c>ui://</c>) keeps its scheme, which hosts require to render it: <c>ui://{server}+{rest}</c> (server
/// names hold no <c>+</c>).
/// </remarks>
/// <typeparam name="TResource">The protocol type of a resource.</typeparam>
/// <typeparam name="TTemplate">The protocol type of a resource template.</typeparam>
public sealed partial class ResourceCatalog<TResource, TTemplate>
{
    /// <summary>The scheme of rewritten URIs.</summary>
    public const string RewritePrefix = "mcpgw://";

    /// <summary>The scheme of MCP Apps interfaces, kept when such a URI is rewritten.</summary>
    public const string UiScheme = "ui://";

    private readonly FrozenDictionary<string, CatalogEntry<TResource>> _byUri;
    private readonly (Regex Pattern, CatalogEntry<TTemplate> Entry)[] _templates;
    private readonly FrozenSet<string> _servers;

    private ResourceCatalog(List<CatalogEntry<TResource>> resources, List<CatalogEntry<TTemplate>> templates, IEnumerable<string> servers)
    {
        Resources = resources;
        Templates = templates;
        _byUri = resources.ToFrozenDictionary(r => r.ExposedName, StringComparer.Ordinal);
        _templates = [.. templates.Select(t => (TemplateRegex(t.OriginalName), t))];
        _servers = servers.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Gets an empty catalog.</summary>
    public static ResourceCatalog<TResource, TTemplate> Empty { get; } = new([], [], []);

    /// <summary>Gets the exposed resources; <see cref="CatalogEntry{TItem}.ExposedName"/> is the exposed URI.</summary>
    public IReadOnlyList<CatalogEntry<TResource>> Resources { get; }

    /// <summary>Gets the exposed templates; <see cref="CatalogEntry{TItem}.ExposedName"/> is the exposed URI template.</summary>
    public IReadOnlyList<CatalogEntry<TTemplate>> Templates { get; }

    /// <summary>Builds the catalog, servers in registration order.</summary>
    public static ResourceCatalog<TResource, TTemplate> Build(
        IEnumerable<(string Server, IReadOnlyList<(string Uri, TResource Item)> Resources, IReadOnlyList<(string UriTemplate, TTemplate Item)> Templates)> servers)
    {
        var resources = new List<CatalogEntry<TResource>>();
        var templates = new List<CatalogEntry<TTemplate>>();
        var seenUris = new HashSet<string>(StringComparer.Ordinal);
        var seenTemplates = new HashSet<string>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var (server, serverResources, serverTemplates) in servers)
        {
            names.Add(server);
            foreach (var (uri, item) in serverResources)
            {
                var exposed = seenUris.Add(uri) ? uri : Rewrite(server, uri);
                resources.Add(new CatalogEntry<TResource>(exposed, server, uri, item));
            }

            foreach (var (template, item) in serverTemplates)
            {
                var exposed = seenTemplates.Add(template) ? template : Rewrite(server, template);
                templates.Add(new CatalogEntry<TTemplate>(exposed, server, template, item));
            }
        }

        return new ResourceCatalog<TResource, TTemplate>(resources, templates, names);
    }

    /// <summary>Builds the exposed form of a URI rewritten to route to <paramref name="server"/>.</summary>
    public static string Rewrite(string server, string uri) =>
        uri.StartsWith(UiScheme, StringComparison.Ordinal) ? $"{UiScheme}{server}+{uri[UiScheme.Length..]}" : $"{RewritePrefix}{server}/{uri}";

    /// <summary>
    /// The URI under which an agent reads <paramref name="uri"/> as <paramref name="server"/> means it (a resource its
    /// tool definition or result refers to): as published when it routes to that server or to no server, rewritten to
    /// route to <paramref name="server"/> when it would reach another server's resource.
    /// </summary>
    public string ExposeReference(string server, string uri) =>
        Route(uri) is { } route && route.Server != server ? Rewrite(server, uri) : uri;

    /// <summary>Finds the server that owns <paramref name="exposedUri"/> and the URI to send it.</summary>
    /// <returns><see langword="null"/> when no connected server owns the URI.</returns>
    public (string Server, string OriginalUri)? Route(string exposedUri)
    {
        if (exposedUri.StartsWith(RewritePrefix, StringComparison.Ordinal))
        {
            var rest = exposedUri.AsSpan(RewritePrefix.Length);
            var slash = rest.IndexOf('/');
            if (slash > 0 && _servers.Contains(rest[..slash].ToString()))
            {
                return (rest[..slash].ToString(), rest[(slash + 1)..].ToString());
            }
        }

        if (_byUri.TryGetValue(exposedUri, out var resource))
        {
            return (resource.Server, resource.OriginalName);
        }

        // A rewritten interface that is not listed (a reference in a definition or result): after the listed URIs,
        // since ui:// is the upstreams' scheme, not the gateway's.
        if (exposedUri.StartsWith(UiScheme, StringComparison.Ordinal))
        {
            var rest = exposedUri.AsSpan(UiScheme.Length);
            var plus = rest.IndexOf('+');
            var end = rest.IndexOfAny('/', '?', '#');
            if (plus > 0 && (end < 0 || plus < end) && _servers.Contains(rest[..plus].ToString()))
            {
                return (rest[..plus].ToString(), UiScheme + rest[(plus + 1)..].ToString());
            }
        }

        foreach (var (pattern, entry) in _templates)
        {
            if (entry.ExposedName == entry.OriginalName && pattern.IsMatch(exposedUri))
            {
                return (entry.Server, exposedUri);
            }
        }

        return null;
    }

    /// <summary>Returns the resources of servers the grants name.</summary>
    public IEnumerable<CatalogEntry<TResource>> ResourcesVisibleTo(GrantSet grants, DateTimeOffset now) => Resources.Where(r => grants.AllowsAnyOf(r.Server, now));

    /// <summary>Returns the templates of servers the grants name.</summary>
    public IEnumerable<CatalogEntry<TTemplate>> TemplatesVisibleTo(GrantSet grants, DateTimeOffset now) => Templates.Where(t => grants.AllowsAnyOf(t.Server, now));

    /// <summary>Turns an RFC 6570 template into a matcher: <c>{x}</c> matches one path segment, <c>{+x}</c>/<c>{#x}</c> anything, <c>{?x}</c> a query.</summary>
    internal static Regex TemplateRegex(string template)
    {
        var sb = new StringBuilder("^");
        var last = 0;
        foreach (Match m in Expression().Matches(template))
        {
            sb.Append(Regex.Escape(template[last..m.Index]));
            var op = m.Groups[1].Value;
            sb.Append(op switch
            {
                "+" or "#" => ".*",
                "?" or "&" => @"(?:[?&].*)?",
                _ => "[^/?#]*",
            });
            last = m.Index + m.Length;
        }

        sb.Append(Regex.Escape(template[last..])).Append('$');
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
    }

    [GeneratedRegex(@"\{([+#./;?&]?)[^}]*\}")]
    private static partial Regex Expression();
}
