using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>Reads an upstream's four lists (tools, prompts, resources, resource templates), each to its last page.</summary>
internal static class UpstreamInventoryReader
{
    public static async Task<UpstreamInventory> ReadAsync(McpClient client, CancellationToken cancellationToken)
    {
        var caps = client.ServerCapabilities;
        List<Tool> tools = [];
        List<Prompt> prompts = [];
        List<Resource> resources = [];
        List<ResourceTemplate> templates = [];
        if (caps.Tools is not null)
        {
            tools = await ReadAllAsync(client, static (c, cursor, ct) => c.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, ct), static page => page.Tools, cancellationToken);

            // Without this the client logs a cache miss on every forwarded call (SDK notes, pitfall 6).
            client.AddKnownTools(tools);
        }

        if (caps.Prompts is not null)
        {
            prompts = await ReadAllAsync(client, static (c, cursor, ct) => c.ListPromptsAsync(new ListPromptsRequestParams { Cursor = cursor }, ct), static page => page.Prompts, cancellationToken);
        }

        if (caps.Resources is not null)
        {
            resources = await ReadAllAsync(client, static (c, cursor, ct) => c.ListResourcesAsync(new ListResourcesRequestParams { Cursor = cursor }, ct), static page => page.Resources, cancellationToken);
            templates = await ReadAllAsync(client, static (c, cursor, ct) => c.ListResourceTemplatesAsync(new ListResourceTemplatesRequestParams { Cursor = cursor }, ct), static page => page.ResourceTemplates, cancellationToken);
        }

        return new UpstreamInventory(tools, prompts, resources, templates);
    }

    /// <summary>The one paging loop: asks for pages until one has no next cursor.</summary>
    private static async Task<List<T>> ReadAllAsync<TPage, T>(
        McpClient client,
        Func<McpClient, string?, CancellationToken, ValueTask<TPage>> list,
        Func<TPage, IEnumerable<T>> items,
        CancellationToken cancellationToken)
        where TPage : PaginatedResult
    {
        var all = new List<T>();
        string? cursor = null;
        do
        {
            var page = await list(client, cursor, cancellationToken);
            all.AddRange(items(page));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return all;
    }
}
