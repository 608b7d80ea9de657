using Gateway.Core.Catalog;
using Gateway.Core.Policy;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>A tool as the upstream defines it and as the gateway exposes it (renamed), built once per catalog.</summary>
internal sealed record ExposedTool(Tool Upstream, Tool Exposed)
{
    /// <summary>Gets the upstream's definition as JSON, as a model reads it (and the definition scan reads it).</summary>
    public System.Text.Json.JsonElement Json { get; } = System.Text.Json.JsonSerializer.SerializeToElement(Upstream, ModelContextProtocol.McpJsonUtilities.DefaultOptions);

    /// <summary>Gets the upstream's definition in canonical (RFC 8785) JSON: what a pin keeps, to show a later change.</summary>
    public string Definition => field ??= Gateway.Core.Audit.CanonicalJson.Serialize(Json);

    /// <summary>Gets the SHA-256 of the upstream's definition (canonical JSON): an approval is bound to it, so a changed tool needs a new one.</summary>
    public string DefinitionSha256 => field ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Definition)));
}

/// <summary>
/// A tool withheld from agents because its definition is not the pinned one, is new while new tools need approval,
/// or is new with definition-scan findings (never trusted on first use). Carries what the admin reviews: the
/// findings, and for a changed tool the pinned definition to compare with.
/// </summary>
public sealed record QuarantinedTool(string Server, string Tool, PinState State, string? PinnedSha256, string CurrentSha256)
{
    /// <summary>Gets the definition-scan findings of the current definition.</summary>
    public IReadOnlyList<DefinitionFinding> Findings { get; init; } = [];

    /// <summary>Gets the current definition (canonical JSON).</summary>
    public string Definition { get; init; } = "{}";

    /// <summary>Gets the admin's rejection of this very definition, when they rejected it: it stays withheld.</summary>
    public ToolRejection? Rejection { get; init; }

    /// <summary>Gets the pinned definition (canonical JSON), when the pin kept it.</summary>
    public string? PinnedDefinition { get; init; }

    /// <summary>Gets what changed from the pinned definition, field by field; null unless changed and the pin kept its text.</summary>
    public IReadOnlyList<DefinitionChange>? Changes => State == PinState.Changed ? field ??= DefinitionDiff.Compare(PinnedDefinition, Definition) : null;

    /// <summary>Gets why the tool is withheld, as the API and the console show it.</summary>
    public string Reason => Rejection is { } rejected
        ? $"Rejected by {rejected.RejectedBy} at {rejected.RejectedAt:yyyy-MM-dd HH:mm} UTC: this definition ({CurrentSha256[..12]}) stays hidden from agents. A different definition is reviewed again."
        : State switch
    {
        PinState.Changed => $"Quarantined: the definition changed since it was pinned ({PinnedSha256![..12]} -> {CurrentSha256[..12]})"
            + (PinnedDefinition is null ? "; the pinned text was not kept, so only the hashes can be compared" : string.Empty)
            + FindingsNote + ". Hidden from agents until an admin accepts it.",
        _ when Findings.Count > 0 => $"Quarantined: the new definition{FindingsNote}, so it is not trusted on first use. Hidden from agents until an admin accepts it.",
        _ => "Quarantined: new tools wait for an admin to accept them (Gateway:Upstreams:ToolPinning=ApproveNew).",
    };

    private string FindingsNote => Findings.Count == 0 ? string.Empty
        : $" has {Findings.Count} definition-scan finding{(Findings.Count == 1 ? string.Empty : "s")} ({string.Join(", ", Findings.Select(f => f.Kind).Distinct())})";
}

/// <summary>A prompt as the upstream defines it and as the gateway exposes it.</summary>
internal sealed record ExposedPrompt(Prompt Upstream, Prompt Exposed);

/// <summary>An immutable snapshot of everything the connected upstreams expose; swapped whole on any change.</summary>
internal sealed record GatewayCatalog(
    long Version,
    NamespacedCatalog<ExposedTool> Tools,
    NamespacedCatalog<ExposedTool> OfflineTools,
    NamespacedCatalog<ExposedPrompt> Prompts,
    ResourceCatalog<Resource, ResourceTemplate> Resources)
{
    /// <summary>Gets the tools of connected servers that are withheld by pinning, for the admin to review.</summary>
    public IReadOnlyList<QuarantinedTool> Quarantined { get; private init; } = [];

    /// <summary>Gets the definition-scan findings of the connected servers' tools that have any, exposed or not.</summary>
    public IReadOnlyDictionary<(string Server, string Tool), IReadOnlyList<DefinitionFinding>> Findings { get; private init; } =
        new Dictionary<(string Server, string Tool), IReadOnlyList<DefinitionFinding>>();

    /// <summary>Gets, for each connected server, the names of every tool it lists (offered or withheld).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Listed { get; private init; } = new Dictionary<string, IReadOnlySet<string>>();

    /// <summary>Gets the pins the catalog was built against.</summary>
    public ToolPinSet Pins { get; private init; } = ToolPinSet.None;

    /// <summary>Gets the resources under their exposed URIs, built once per catalog rather than per list request.</summary>
    public IReadOnlyList<(string Server, Resource Exposed)> ExposedResources { get; } =
        [.. Resources.Resources.Select(e => (e.Server, WithUri(e.Item, e.ExposedName)))];

    /// <summary>Gets the resource templates under their exposed URI templates.</summary>
    public IReadOnlyList<(string Server, ResourceTemplate Exposed)> ExposedTemplates { get; } =
        [.. Resources.Templates.Select(e => (e.Server, WithUriTemplate(e.Item, e.ExposedName)))];

    public static GatewayCatalog Empty { get; } = new(0, NamespacedCatalog<ExposedTool>.Empty, NamespacedCatalog<ExposedTool>.Empty, NamespacedCatalog<ExposedPrompt>.Empty, ResourceCatalog<Resource, ResourceTemplate>.Empty);

    public static GatewayCatalog Build(long version, IReadOnlyList<UpstreamConnection> connected, IReadOnlyList<UpstreamConnection> down, IReadOnlyDictionary<(string Server, string Tool), AccessClass> overrides, ToolPinSet? pins = null)
    {
        pins ??= ToolPinSet.None;
        var quarantined = new List<QuarantinedTool>();
        var findings = new Dictionary<(string Server, string Tool), IReadOnlyList<DefinitionFinding>>();

        // Definitions are scanned here, when the tools are discovered (a catalog is rebuilt on changes, never per call).
        var names = ToolNameIndex.Build(connected.Select(c => (c.Name, c.Definition.EffectivePrefix, c.Inventory.Tools.Select(t => t.Name))));
        var resources = ResourceCatalog<Resource, ResourceTemplate>.Build(connected.Select(c => (
            c.Name,
            (IReadOnlyList<(string, Resource)>)[.. c.Inventory.Resources.Select(r => (r.Uri, r))],
            (IReadOnlyList<(string, ResourceTemplate)>)[.. c.Inventory.ResourceTemplates.Select(t => (t.UriTemplate, t))])));
        var tools = ToolCatalog(connected, c => c.Inventory.Tools, overrides, pins, quarantined, (c, t) => Scan(c, t, names, findings), resources);
        var offline = ToolCatalog(down, c => c.LastKnownTools, overrides, pins, [], (_, _) => [], resources);
        var prompts = NamespacedCatalog<ExposedPrompt>.Build(connected.Select(c => new ServerItems<ExposedPrompt>(
            c.Name,
            c.Definition.EffectivePrefix,
            [.. c.Inventory.Prompts.Select(p => (p.Name, new ExposedPrompt(p, Rename(p, c.Definition.EffectivePrefix + p.Name))))])));
        var listed = connected.ToDictionary(c => c.Name, IReadOnlySet<string> (c) => c.Inventory.Tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        return new GatewayCatalog(version, tools, offline, prompts, resources) { Quarantined = quarantined, Pins = pins, Findings = findings, Listed = listed };
    }

    private static NamespacedCatalog<ExposedTool> ToolCatalog(
        IReadOnlyList<UpstreamConnection> servers,
        Func<UpstreamConnection, IReadOnlyList<Tool>> tools,
        IReadOnlyDictionary<(string Server, string Tool), AccessClass> overrides,
        ToolPinSet pins,
        List<QuarantinedTool> quarantined,
        Func<UpstreamConnection, ExposedTool, IReadOnlyList<DefinitionFinding>> scan,
        ResourceCatalog<Resource, ResourceTemplate> resources) =>
        NamespacedCatalog<ExposedTool>.Build(servers.Select(c => new ServerItems<ExposedTool>(
            c.Name,
            c.Definition.EffectivePrefix,
            [.. tools(c).Select(t => new ExposedTool(t, Expose(t, c.Definition.EffectivePrefix + t.Name, c.Name, resources))).Where(t => Admit(c.Name, t, pins, quarantined, scan(c, t))).Select(t => (t.Upstream.Name, t))],
            t => Classify(c.Name, t.Upstream, overrides))));

    private static IReadOnlyList<DefinitionFinding> Scan(UpstreamConnection server, ExposedTool tool, ToolNameIndex names, Dictionary<(string Server, string Tool), IReadOnlyList<DefinitionFinding>> all)
    {
        var found = DefinitionScanner.Scan(tool.Json, server.Name, server.Definition.EffectivePrefix, names);
        if (found.Count > 0)
        {
            all[(server.Name, tool.Upstream.Name)] = found;
        }

        return found;
    }

    /// <summary>
    /// Rug-pull and poisoning protection: a tool whose definition is not (yet) accepted is left out, and listed for
    /// review; a new definition with scan findings is never trusted on first use.
    /// </summary>
    private static bool Admit(string server, ExposedTool tool, ToolPinSet pins, List<QuarantinedTool> quarantined, IReadOnlyList<DefinitionFinding> findings)
    {
        var state = pins.Check(server, tool.Upstream.Name, tool.DefinitionSha256);
        if (pins.IsExposed(state, suspicious: findings.Count > 0))
        {
            return true;
        }

        var pinned = pins.TryGet(server, tool.Upstream.Name, out var pin) ? pin : null;
        quarantined.Add(new QuarantinedTool(server, tool.Upstream.Name, state, pinned?.DefinitionSha256, tool.DefinitionSha256)
        {
            Findings = findings,
            Definition = tool.Definition,
            PinnedDefinition = pinned?.Definition,
            Rejection = pins.RejectionOf(server, tool.Upstream.Name, tool.DefinitionSha256),
        });
        return false;
    }

    /// <summary>The admin's override when there is one; else the upstream's (untrusted) hints.</summary>
    internal static AccessClass Classify(string server, Tool tool, IReadOnlyDictionary<(string Server, string Tool), AccessClass> overrides) =>
        overrides.TryGetValue((server, tool.Name), out var set) ? set : ToolClassifier.FromHints(tool.Annotations?.ReadOnlyHint, tool.Annotations?.DestructiveHint);

    /// <summary>The tool as agents see it: renamed, and its MCP Apps interface named as it reaches this server's resource.</summary>
    private static Tool Expose(Tool t, string name, string server, ResourceCatalog<Resource, ResourceTemplate> resources)
    {
        var meta = Gateway.Web.Protocol.AppsProtocol.ExposeMeta(t.Meta, server, resources);
        return name == t.Name && meta == t.Meta ? t : new Tool
        {
            Name = name,
            Title = t.Title,
            Description = t.Description,
            InputSchema = t.InputSchema,
            OutputSchema = t.OutputSchema,
            Annotations = t.Annotations,
            Icons = t.Icons,
            Meta = meta,
        };
    }

    private static Resource WithUri(Resource r, string uri) => uri == r.Uri ? r : new Resource
    {
        Uri = uri,
        Name = r.Name,
        Title = r.Title,
        Description = r.Description,
        MimeType = r.MimeType,
        Annotations = r.Annotations,
        Size = r.Size,
        Icons = r.Icons,
        Meta = r.Meta,
    };

    private static ResourceTemplate WithUriTemplate(ResourceTemplate t, string template) => template == t.UriTemplate ? t : new ResourceTemplate
    {
        UriTemplate = template,
        Name = t.Name,
        Title = t.Title,
        Description = t.Description,
        MimeType = t.MimeType,
        Annotations = t.Annotations,
        Icons = t.Icons,
        Meta = t.Meta,
    };

    private static Prompt Rename(Prompt p, string name) => name == p.Name ? p : new Prompt
    {
        Name = name,
        Title = p.Title,
        Description = p.Description,
        Arguments = p.Arguments,
        Icons = p.Icons,
        Meta = p.Meta,
    };
}
