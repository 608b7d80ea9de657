using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Reads an upstream's four lists (tools, prompts, resources, resource templates), each to its last page: at most
/// <see cref="MaxItems"/> entries in <see cref="MaxPages"/> pages each, <see cref="MaxBytes"/> for the four together, all
/// four within the server's call timeout. The
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
    /// The most bytes (as the pages' JSON counts them) the four lists may take together. A page is bounded by the server's
    /// message limit, but 1,000 of them were not: an upstream answering pages of a few large entries could fill memory.
    /// </summary>
    internal const long MaxBytes = 32 * 1024 * 1024;

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
        // The four lists are asked for at once, not one after another: each is a round trip to the upstream (or several),
        // and a connection waits for all of them, at the start (before the gateway listens), at every reconnection and at
        // every refresh. One upstream a network away took four of its round trips where it now takes one. A list that
        // fails stops the others (they are of no use then), and the read fails with the first failure in the lists'
        // order, the others' cancellations aside.
        var caps = client.ServerCapabilities;
        var spent = new Spent();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toolsRead = ReadIfOfferedAsync<ListToolsResult, Tool>(caps.Tools is not null, "tools", client, RequestMethods.ToolsList, static page => page.Tools, spent, failed);
        var promptsRead = ReadIfOfferedAsync<ListPromptsResult, Prompt>(caps.Prompts is not null, "prompts", client, RequestMethods.PromptsList, static page => page.Prompts, spent, failed);
        var resourcesRead = ReadIfOfferedAsync<ListResourcesResult, Resource>(caps.Resources is not null, "resources", client, RequestMethods.ResourcesList, static page => page.Resources, spent, failed);
        var templatesRead = ReadIfOfferedAsync<ListResourceTemplatesResult, ResourceTemplate>(caps.Resources is not null, "resource templates", client, RequestMethods.ResourcesTemplatesList, static page => page.ResourceTemplates, spent, failed);

        // A faulted list's exception comes before any cancellation, in the order of the tasks here.
        await Task.WhenAll(toolsRead, promptsRead, resourcesRead, templatesRead);
        var tools = await toolsRead;

        // Without this the client logs a cache miss on every forwarded call (SDK notes, pitfall 6).
        client.AddKnownTools(tools);

        List<string> tooLong = [];
        if (tools.Exists(t => t.Name.Length > MaxToolName))
        {
            // Named in the log by their first characters, at most three of them: the names are the upstream's.
            tooLong = [.. tools.Where(t => t.Name.Length > MaxToolName).Take(3).Select(t => t.Name[..32] + "…")];
            tools = [.. tools.Where(t => t.Name.Length <= MaxToolName)];
        }

        return new UpstreamInventory(tools, await promptsRead, await resourcesRead, await templatesRead) { NamesTooLong = tooLong };
    }

    private static async Task<List<T>> ReadIfOfferedAsync<TPage, T>(
        bool offered,
        string what,
        McpClient client,
        string method,
        Func<TPage, IEnumerable<T>> items,
        Spent spent,
        CancellationTokenSource failed)
        where TPage : PaginatedResult
    {
        if (!offered)
        {
            return [];
        }

        try
        {
            return await ReadAllAsync(what, client, method, items, spent, failed.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await failed.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// The one paging loop: asks for pages until one has no next cursor, within the bounds. Each page is asked for as a
    /// plain request so that its size can be counted (<see cref="JsonSize"/>) before it is read into the list's types.
    /// </summary>
    private static async Task<List<T>> ReadAllAsync<TPage, T>(
        string what,
        McpClient client,
        string method,
        Func<TPage, IEnumerable<T>> items,
        Spent spent,
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

            var parameters = new JsonObject();
            if (cursor is not null)
            {
                parameters["cursor"] = cursor;
            }

            var response = await client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters }, cancellationToken);
            if (Interlocked.Add(ref spent.Bytes, JsonSize.Of(response.Result)) > MaxBytes)
            {
                throw new InvalidOperationException($"The upstream's lists take more than {MaxBytes / (1024 * 1024)} MiB (stopped in its {what} list): not read.");
            }

            var page = response.Result.Deserialize<TPage>(McpJsonUtilities.DefaultOptions)
                ?? throw new InvalidOperationException($"The upstream answered a page of its {what} list with null.");
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

    /// <summary>What the lists read so far took, in bytes (the four lists add to it at once).</summary>
    private sealed class Spent
    {
        public long Bytes;
    }
}
