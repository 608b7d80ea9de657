using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Reads an upstream's four lists (tools, prompts, resources, resource templates), each to its last page: at most
/// <see cref="MaxItems"/> entries in <see cref="MaxPages"/> pages each, all four within the server's call timeout. The
/// upstream decides how many pages there are and when it answers; a list past the bounds, or an upstream that stops
/// answering, fails the read with the reason (the connection is then tried again later) instead of growing or waiting.
/// </summary>
internal static class UpstreamInventoryReader
{
    /// <summary>The most entries one list may have.</summary>
    internal const int MaxItems = 10_000;

    /// <summary>The most pages one list may take.</summary>
    internal const int MaxPages = 1_000;

    /// <summary>
    /// The longest tool name taken (the specification's 128 characters): a longer one is left out, so that it neither
    /// reaches agents nor fails what the gateway stores about tools (their pins, named up to 256 characters).
    /// </summary>
    internal const int MaxToolName = 128;

    public static async Task<UpstreamInventory> ReadAsync(McpClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            return await ReadListsAsync(client, bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The upstream did not list its tools, prompts and resources within {timeout.TotalSeconds:0} s.");
        }
    }

    private static async Task<UpstreamInventory> ReadListsAsync(McpClient client, CancellationToken cancellationToken)
    {
        var caps = client.ServerCapabilities;
        List<Tool> tools = [];
        List<Prompt> prompts = [];
        List<Resource> resources = [];
        List<ResourceTemplate> templates = [];
        if (caps.Tools is not null)
        {
            tools = await ReadAllAsync("tools", client, static (c, cursor, ct) => c.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, ct), static page => page.Tools, cancellationToken);

            // Without this the client logs a cache miss on every forwarded call (SDK notes, pitfall 6).
            client.AddKnownTools(tools);
        }

        if (caps.Prompts is not null)
        {
            prompts = await ReadAllAsync("prompts", client, static (c, cursor, ct) => c.ListPromptsAsync(new ListPromptsRequestParams { Cursor = cursor }, ct), static page => page.Prompts, cancellationToken);
        }

        if (caps.Resources is not null)
        {
            resources = await ReadAllAsync("resources", client, static (c, cursor, ct) => c.ListResourcesAsync(new ListResourcesRequestParams { Cursor = cursor }, ct), static page => page.Resources, cancellationToken);
            templates = await ReadAllAsync("resource templates", client, static (c, cursor, ct) => c.ListResourceTemplatesAsync(new ListResourceTemplatesRequestParams { Cursor = cursor }, ct), static page => page.ResourceTemplates, cancellationToken);
        }

        List<string> tooLong = [];
        if (tools.Exists(t => t.Name.Length > MaxToolName))
        {
            // Named in the log by their first characters, at most three of them: the names are the upstream's.
            tooLong = [.. tools.Where(t => t.Name.Length > MaxToolName).Take(3).Select(t => t.Name[..32] + "…")];
            tools = [.. tools.Where(t => t.Name.Length <= MaxToolName)];
        }

        return new UpstreamInventory(tools, prompts, resources, templates) { NamesTooLong = tooLong };
    }

    /// <summary>The one paging loop: asks for pages until one has no next cursor, within the bounds.</summary>
    private static async Task<List<T>> ReadAllAsync<TPage, T>(
        string what,
        McpClient client,
        Func<McpClient, string?, CancellationToken, ValueTask<TPage>> list,
        Func<TPage, IEnumerable<T>> items,
        CancellationToken cancellationToken)
        where TPage : PaginatedResult
    {
        var all = new List<T>();
        string? cursor = null;
        var pages = 0;
        do
        {
            if (++pages > MaxPages)
            {
                throw new InvalidOperationException($"The upstream's {what} list goes on past {MaxPages} pages: not read.");
            }

            var page = await list(client, cursor, cancellationToken);
            all.AddRange(items(page));
            if (all.Count > MaxItems)
            {
                throw new InvalidOperationException($"The upstream lists more than {MaxItems} {what}: not read.");
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return all;
    }
}
