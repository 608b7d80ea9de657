namespace Gateway.Web.VirtualServers;

/// <summary>Where a virtual server is served: <c>/mcp/{name}</c>.</summary>
internal static class VirtualServerPath
{
    /// <summary>The route of every virtual server's MCP endpoint.</summary>
    public const string Pattern = "/mcp/{virtualServer}";

    /// <summary>The virtual server a request is for, or null for <c>/mcp</c> (and any other path).</summary>
    public static string? NameOf(PathString path) =>
        path.StartsWithSegments("/mcp", out var rest) && rest.Value is { Length: > 1 } tail && tail.IndexOf('/', 1) < 0 ? tail[1..] : null;
}
