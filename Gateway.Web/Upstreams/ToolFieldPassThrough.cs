using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Keeps the fields of an upstream's tool definitions that the SDK's <see cref="Tool"/> type does not have (such as
/// <c>execution.taskSupport</c>, which 2.4.0 dropped): the SDK client would discard them when it reads <c>tools/list</c>,
/// and the gateway builds its catalog from those objects. The upstream transport moves them into the tool's
/// <c>_meta</c> under <see cref="Key"/> as it reads the response (<see cref="Keep"/>), so they travel with the tool
/// through the catalog, pins and definition hash, and the agent's <c>tools/list</c> response gets them back at the
/// top level (<see cref="Restore"/>).
/// </summary>
internal static class ToolFieldPassThrough
{
    public const string Key = "mcp-gateway/tool-fields";

    // Marks an agent's tools/list request; its response shares the request's message context, and so its items.
    private const string ListingItem = "mcp-gateway/tools-list";

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "name", "title", "description", "inputSchema", "outputSchema", "annotations", "icons", "_meta",
    };

    /// <summary>Moves the unknown fields of each tool of a <c>tools/list</c> result into its <c>_meta</c>, in place.</summary>
    public static void Keep(JsonNode? result)
    {
        if (result is not JsonObject { } list || list["tools"] is not JsonArray tools)
        {
            return;
        }

        foreach (var tool in tools.OfType<JsonObject>())
        {
            // The key is the gateway's: whatever the upstream put there itself is dropped.
            (tool["_meta"] as JsonObject)?.Remove(Key);
            var extra = tool.Where(p => !Known.Contains(p.Key)).Select(p => p.Key).ToList();
            if (extra.Count == 0)
            {
                continue;
            }

            var kept = new JsonObject();
            foreach (var name in extra)
            {
                var value = tool[name];
                tool.Remove(name);
                kept[name] = value;
            }

            if (tool["_meta"] is not JsonObject meta)
            {
                tool["_meta"] = meta = [];
            }

            meta[Key] = kept;
        }
    }

    /// <summary>Marks an agent's <c>tools/list</c> request (an incoming message filter).</summary>
    public static McpMessageHandler Mark(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcRequest { Method: RequestMethods.ToolsList })
        {
            context.Items[ListingItem] = true;
        }

        return next(context, cancellationToken);
    };

    /// <summary>Puts the kept fields back at the top level of each tool in the response to a marked request (an outgoing message filter).</summary>
    public static McpMessageHandler Restore(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse { Result: JsonObject { } result } response
            && response.Context?.Items?.ContainsKey(ListingItem) == true && result["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.OfType<JsonObject>())
            {
                if (tool["_meta"] is not JsonObject meta || meta[Key] is not JsonObject kept)
                {
                    continue;
                }

                meta.Remove(Key);
                if (meta.Count == 0)
                {
                    tool.Remove("_meta");
                }

                foreach (var (name, value) in kept)
                {
                    if (!tool.ContainsKey(name))
                    {
                        tool[name] = value?.DeepClone();
                    }
                }
            }
        }

        return next(context, cancellationToken);
    };
}
