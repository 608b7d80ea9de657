using Gateway.Core.VirtualServers;

namespace Gateway.Web.VirtualServers;

/// <summary>A virtual server declared in configuration, <c>Gateway:VirtualServers:{name}</c>; read-only through the API and the console.</summary>
internal sealed class VirtualServerOptions
{
    public const string Section = "Gateway:VirtualServers";

    public string? Title { get; set; }

    public string? Description { get; set; }

    /// <summary>Gets or sets <c>list</c> (default) or <c>search</c>.</summary>
    public string? Discovery { get; set; }

    public List<VirtualToolOptions> Tools { get; set; } = [];

    public List<VirtualPromptOptions> Prompts { get; set; } = [];

    /// <summary>Gets or sets the resources and resource templates, each by its upstream URI or URI template.</summary>
    public List<VirtualResourceOptions> Resources { get; set; } = [];

    /// <summary>Gets or sets the agents limited to this virtual server: names and <c>tag:name</c>.</summary>
    public List<string> Agents { get; set; } = [];

    /// <summary>Reads every configured virtual server; a bad one stops the start with every problem named.</summary>
    public static IReadOnlyList<VirtualServer> Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section).Get<Dictionary<string, VirtualServerOptions>>() ?? [];
        var errors = new List<string>();
        if (section.Count > VirtualServer.MaxServers)
        {
            errors.Add($"{Section} declares {section.Count} virtual servers; at most {VirtualServer.MaxServers}.");
        }

        var servers = new List<VirtualServer>();
        foreach (var (name, options) in section.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var fields = new Dictionary<string, string[]>();
            var document = new VirtualServerDocument(
                name,
                options.Title,
                options.Description,
                options.Discovery,
                [.. options.Tools.Select(t => new VirtualToolDocument(t.Server, t.Tool, t.Name, t.Title, t.Description))],
                options.Agents,
                [.. options.Prompts.Select(p => new VirtualPromptDocument(p.Server, p.Prompt, p.Name, p.Title, p.Description))],
                [.. options.Resources.Select(r => new VirtualResourceDocument(r.Server, r.Uri, r.Title, r.Description, r.Name))],
                ManagedByConfiguration: true);
            if (document.ToServer(fields) is { } server)
            {
                servers.Add(server);
            }

            errors.AddRange(fields.SelectMany(f => f.Value.Select(m => $"{Section}:{name}: {f.Key}: {m}")));
        }

        return errors.Count > 0 ? throw new InvalidOperationException(string.Join(Environment.NewLine, errors)) : servers;
    }
}

/// <summary>One tool of a configured virtual server.</summary>
internal sealed class VirtualToolOptions
{
    public string? Server { get; set; }

    public string? Tool { get; set; }

    public string? Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }
}

/// <summary>One prompt of a configured virtual server.</summary>
internal sealed class VirtualPromptOptions
{
    public string? Server { get; set; }

    public string? Prompt { get; set; }

    public string? Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }
}

/// <summary>One resource or resource template of a configured virtual server.</summary>
internal sealed class VirtualResourceOptions
{
    public string? Server { get; set; }

    public string? Uri { get; set; }

    public string? Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }
}
