namespace Gateway.Core.VirtualServers;

/// <summary>
/// A curated endpoint, <c>/mcp/{name}</c>: tools, prompts and resources picked from several upstreams, each tool and
/// prompt under the name (and each with the title and description) the admin gives it. Grants, policy, approval and pins
/// still apply to the upstream item itself.
/// </summary>
/// <param name="Name">The name, a URL path segment (<see cref="Names"/>).</param>
/// <param name="Title">What a console or client shows; optional.</param>
/// <param name="Description">What the endpoint is for; optional.</param>
/// <param name="Discovery">Whether <c>tools/list</c> lists every tool or offers search instead.</param>
/// <param name="Tools">The members, in the order agents see them; their exposed names are distinct.</param>
public sealed record VirtualServer(string Name, string? Title, string? Description, ToolDiscovery Discovery, IReadOnlyList<VirtualTool> Tools)
{
    /// <summary>The most entries in <see cref="Agents"/>.</summary>
    public const int MaxAgents = 100;

    /// <summary>The most virtual servers, configured and stored together (each is a view rebuilt on every catalog change).</summary>
    public const int MaxServers = 100;

    /// <summary>The most tools in one virtual server.</summary>
    public const int MaxTools = 1000;

    /// <summary>The most prompts in one virtual server.</summary>
    public const int MaxPrompts = 1000;

    /// <summary>The most resources and resource templates in one virtual server, together.</summary>
    public const int MaxResources = 1000;

    /// <summary>The longest resource URI or URI template of a pick.</summary>
    public const int MaxUriLength = 2048;

    /// <summary>The longest title, of the server or of a tool.</summary>
    public const int MaxTitleLength = 256;

    /// <summary>The longest description, of the server or of a tool (what a model reads; an upstream's may be longer).</summary>
    public const int MaxDescriptionLength = 8192;

    /// <summary>
    /// Gets the agents limited to this virtual server: agent names and <c>tag:name</c> for every agent with the tag. An
    /// agent named by any virtual server may use only the virtual servers that name it (not <c>/mcp</c>, not the others);
    /// an agent named by none may use every endpoint. Its grants still decide which of the tools it may call.
    /// </summary>
    public IReadOnlyList<string> Agents { get; init; } = [];

    /// <summary>Gets the prompts, in the order agents see them; their exposed names are distinct.</summary>
    public IReadOnlyList<VirtualPrompt> Prompts { get; init; } = [];

    /// <summary>
    /// Gets the resources and resource templates, in the order agents see them, each under its upstream URI (or URI
    /// template); their URIs are distinct, so a URI routes to one upstream.
    /// </summary>
    public IReadOnlyList<VirtualResource> Resources { get; init; } = [];

    /// <summary>Gets a value indicating whether configuration defines it (then it is read-only through the API and the console).</summary>
    public bool ManagedByConfiguration { get; init; }
}

/// <summary>One tool of a virtual server.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Tool">The tool's original (upstream) name.</param>
/// <param name="Name">The name agents see; <see langword="null"/> keeps the original name.</param>
/// <param name="Title">The title agents see; <see langword="null"/> keeps the upstream's.</param>
/// <param name="Description">The description agents see; <see langword="null"/> keeps the upstream's.</param>
public sealed record VirtualTool(string Server, string Tool, string? Name = null, string? Title = null, string? Description = null) : IVirtualPick
{
    /// <summary>Gets the name agents call it by.</summary>
    public string ExposedName => Name ?? Tool;

    string IVirtualPick.Original => Tool;
}

/// <summary>One prompt of a virtual server.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Prompt">The prompt's original (upstream) name.</param>
/// <param name="Name">The name agents see; <see langword="null"/> keeps the original name.</param>
/// <param name="Title">The title agents see; <see langword="null"/> keeps the upstream's.</param>
/// <param name="Description">The description agents see; <see langword="null"/> keeps the upstream's.</param>
public sealed record VirtualPrompt(string Server, string Prompt, string? Name = null, string? Title = null, string? Description = null) : IVirtualPick
{
    /// <summary>Gets the name agents get it by.</summary>
    public string ExposedName => Name ?? Prompt;

    string IVirtualPick.Original => Prompt;
}

/// <summary>
/// One resource or resource template of a virtual server, under its upstream URI: a URI is what the upstream reads, so it
/// is not renamed (a client may also have it from a tool's result).
/// </summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Uri">The resource's URI, or the template's URI template, as the upstream lists it.</param>
/// <param name="Title">The title agents see; <see langword="null"/> keeps the upstream's.</param>
/// <param name="Description">The description agents see; <see langword="null"/> keeps the upstream's.</param>
/// <param name="Name">The resource's name (its display name, not its URI) agents see; <see langword="null"/> keeps the upstream's.</param>
public sealed record VirtualResource(string Server, string Uri, string? Title = null, string? Description = null, string? Name = null) : IVirtualPick
{
    string IVirtualPick.Original => Uri;

    string IVirtualPick.ExposedName => Uri;
}

/// <summary>A pick of a virtual server: an upstream item by server and original name, and the name agents see.</summary>
public interface IVirtualPick
{
    /// <summary>Gets the upstream server.</summary>
    string Server { get; }

    /// <summary>Gets the item's original name (a resource's URI) on that server.</summary>
    string Original { get; }

    /// <summary>Gets the name (a resource's URI) agents see.</summary>
    string ExposedName { get; }
}

/// <summary>How an endpoint lets agents discover its tools.</summary>
public enum ToolDiscovery
{
    /// <summary><c>tools/list</c> lists every tool the agent may call.</summary>
    List,

    /// <summary>
    /// <c>tools/list</c> lists only <c>search_tools</c> and <c>call_tool</c>: the agent searches its granted tools and
    /// calls them through <c>call_tool</c>, so a few definitions reach its context instead of hundreds.
    /// </summary>
    Search,
}
