using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Catalog;
using Gateway.Core.Grants;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// The search discovery mode: <c>tools/list</c> offers <c>search_tools</c> and <c>call_tool</c> instead of every
/// definition. A search ranks the agent's granted tools (BM25, <see cref="ToolSearchIndex{TItem}"/>) and returns the
/// best ones' full definitions; <c>call_tool</c> becomes a call of the tool it names.
/// </summary>
internal static class ToolSearch
{
    public const string SearchName = Gateway.Core.VirtualServers.VirtualServerDocument.SearchToolName;

    public const string CallName = Gateway.Core.VirtualServers.VirtualServerDocument.CallToolName;

    /// <summary>The longest query, in characters.</summary>
    public const int MaxQueryLength = 512;

    /// <summary>The most results one search returns.</summary>
    public const int MaxLimit = 20;

    public const int DefaultLimit = 5;

    /// <summary>One index per catalog (the gateway's or a virtual server's view), built at its first search.</summary>
    private static readonly ConditionalWeakTable<NamespacedCatalog<ExposedTool>, ToolSearchIndex<ExposedTool>> Indexes = [];

    /// <summary>Gets the two tools the mode lists.</summary>
    public static IReadOnlyList<Tool> Tools { get; } =
    [
        new Tool
        {
            Name = SearchName,
            Title = "Search tools",
            Description = "Finds the tools for a task among every tool you may call, and returns their full definitions (name, "
                + "description, input schema). Call a tool it returns with call_tool.",
            InputSchema = Schema($$$"""
                {"type":"object","properties":{
                  "query":{"type":"string","minLength":1,"maxLength":{{{MaxQueryLength}}},"description":"What you want to do, in a few words, e.g. 'create a github issue'."},
                  "limit":{"type":"integer","minimum":1,"maximum":{{{MaxLimit}}},"default":{{{DefaultLimit}}},"description":"How many tools to return."}},
                 "required":["query"]}
                """),
            Annotations = new ToolAnnotations { ReadOnlyHint = true, OpenWorldHint = false },
        },
        new Tool
        {
            Name = CallName,
            Title = "Call a tool",
            Description = "Calls a tool that search_tools returned, by its name, with arguments that follow its input schema.",
            InputSchema = Schema("""
                {"type":"object","properties":{
                  "name":{"type":"string","description":"The tool's name, as search_tools returned it."},
                  "arguments":{"type":"object","description":"The tool's arguments."}},
                 "required":["name"]}
                """),
        },
    ];

    /// <summary>Answers <c>search_tools</c>: the best matches among the tools the grants allow now, or a tool error for bad arguments.</summary>
    public static CallToolResult Search(NamespacedCatalog<ExposedTool> catalog, GrantSet grants, DateTimeOffset now, IDictionary<string, JsonElement>? arguments)
    {
        if (arguments is null || !arguments.TryGetValue("query", out var q) || q.ValueKind != JsonValueKind.String || q.GetString() is not { Length: > 0 and <= MaxQueryLength } query)
        {
            return Error($"search_tools needs a query: a string of 1 to {MaxQueryLength} characters.");
        }

        var limit = DefaultLimit;
        if (arguments.TryGetValue("limit", out var l) && (l.ValueKind != JsonValueKind.Number || !l.TryGetInt32(out limit) || limit is < 1 or > MaxLimit))
        {
            return Error($"search_tools' limit is a whole number from 1 to {MaxLimit}.");
        }

        var found = IndexOf(catalog).Search(query, limit, e => grants.Allows(e.Server, e.OriginalName, e.Class, now));
        var tools = new JsonArray([.. found.Select(e => JsonSerializer.SerializeToNode(e.Item.Exposed, McpJsonUtilities.DefaultOptions))]);
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = found.Count == 0 ? $"No tool matches '{query}'." : tools.ToJsonString() }],
            StructuredContent = JsonSerializer.SerializeToElement(new JsonObject { ["tools"] = tools }, McpJsonUtilities.DefaultOptions),
        };
    }

    /// <summary>
    /// Turns a <c>call_tool</c> call into a call of the tool it names, in place (the rest of the request, its progress
    /// token and round-trip state, stays). Any other name is left as it is: it fails as an unknown tool.
    /// </summary>
    public static void Unwrap(CallToolRequestParams call)
    {
        if (call.Name != CallName)
        {
            return;
        }

        if (call.Arguments is not { } arguments || !arguments.TryGetValue("name", out var n) || n.ValueKind != JsonValueKind.String
            || n.GetString() is not { Length: > 0 } name || name is SearchName or CallName)
        {
            throw new McpProtocolException("call_tool needs name: the name of a tool search_tools returned.", McpErrorCode.InvalidParams);
        }

        // The name the call goes on with (and the audit records): capped as a tools/call's own name is.
        if (name.Length > AgentInputLimits.MaxName)
        {
            throw new McpProtocolException($"call_tool's name is longer than {AgentInputLimits.MaxName} characters.", McpErrorCode.InvalidParams);
        }

        Dictionary<string, JsonElement>? inner = null;
        if (arguments.TryGetValue("arguments", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            if (a.ValueKind != JsonValueKind.Object)
            {
                throw new McpProtocolException("call_tool's arguments are an object: the tool's arguments by name.", McpErrorCode.InvalidParams);
            }

            if (Protocol.JsonArguments.FirstRepeatedName(a) is not null)
            {
                throw new McpProtocolException("call_tool's arguments name the same argument twice.", McpErrorCode.InvalidParams);
            }

            inner = a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }

        call.Name = name;
        call.Arguments = inner;
    }

    private static ToolSearchIndex<ExposedTool> IndexOf(NamespacedCatalog<ExposedTool> catalog) =>
        Indexes.GetValue(catalog, c => ToolSearchIndex<ExposedTool>.Build(c.Entries, t => (t.Exposed.Description, Properties(t.Exposed.InputSchema))));

    private static IEnumerable<string> Properties(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            ? properties.EnumerateObject().Select(p => p.Name)
            : [];

    private static CallToolResult Error(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

    private static JsonElement Schema(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
