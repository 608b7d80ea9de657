namespace Gateway.Core.VirtualServers;

/// <summary>
/// A curated endpoint, <c>/mcp/{name}</c>: tools picked from several upstreams, each under the name (and with the title
/// and description) the admin gives it. Grants, policy, approval and pins still apply to the upstream tool itself.
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

    /// <summary>Gets a value indicating whether configuration defines it (then it is read-only through the API and the console).</summary>
    public bool ManagedByConfiguration { get; init; }
}

/// <summary>One tool of a virtual server.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Tool">The tool's original (upstream) name.</param>
/// <param name="Name">The name agents see; <see langword="null"/> keeps the original name.</param>
/// <param name="Title">The title agents see; <see langword="null"/> keeps the upstream's.</param>
/// <param name="Description">The description agents see; <see langword="null"/> keeps the upstream's.</param>
public sealed record VirtualTool(string Server, string Tool, string? Name = null, string? Title = null, string? Description = null)
{
    /// <summary>Gets the name agents call it by.</summary>
    public string ExposedName => Name ?? Tool;
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
