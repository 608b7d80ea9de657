namespace Gateway.Core.VirtualServers;

/// <summary>The words for <see cref="ToolDiscovery"/> in documents and configuration: <c>list</c> and <c>search</c>.</summary>
public static class ToolDiscoveries
{
    /// <summary>What a discovery setting may be, as a field message.</summary>
    public const string Rule = "'list' (every tool in tools/list) or 'search' (search_tools and call_tool).";

    /// <summary>The mode a word names (empty: <see cref="ToolDiscovery.List"/>), or null for any other word.</summary>
    public static ToolDiscovery? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "list" => ToolDiscovery.List,
        "search" => ToolDiscovery.Search,
        _ => null,
    };

    /// <summary>The word for a mode.</summary>
    public static string Name(ToolDiscovery discovery) => discovery == ToolDiscovery.Search ? "search" : "list";
}
