using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Caps the agent-supplied strings that the gateway or the SDK keep for a session's life or repeat in logs: client
/// info, tool and prompt names, request ids, progress tokens, cursors and URIs. Without caps, a 3 MB client name was
/// repeated in every log line of its session (971 bytes of requests grew the log by 120 MB). A value over its cap is
/// refused with <c>-32602</c> and a message that names the field and the cap, never the value; so is a resource request
/// without its URI, and so is a member named twice in the parameters (or in their <c>_meta</c> or <c>clientInfo</c>):
/// a parsed object throws on its first read when a name repeats, which reached the handlers as <c>-32603</c> and an
/// error with its stack trace in the log for every such request.
/// </summary>
internal static class AgentInputLimits
{
    /// <summary>Client info fields, tool and prompt names.</summary>
    public const int MaxName = 256;

    /// <summary>String request ids and progress tokens.</summary>
    public const int MaxToken = 128;

    /// <summary>List cursors (the gateway's own are a few dozen characters).</summary>
    public const int MaxCursor = 1024;

    /// <summary>Resource URIs.</summary>
    public const int MaxUri = 4096;

    /// <summary>The incoming message filter that applies the caps before any handler (or the SDK's initialize) sees the request.</summary>
    public static McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcRequest request && Violation(request) is { } problem)
        {
            throw new McpProtocolException(problem, McpErrorCode.InvalidParams);
        }

        await next(context, cancellationToken);
    };

    /// <summary>What is over its cap in <paramref name="request"/>, or null. Fields of the wrong shape are left to the parser's own errors.</summary>
    internal static string? Violation(JsonRpcRequest request)
    {
        if (request.Id.Id is string id && id.Length > MaxToken)
        {
            return $"The request id is longer than {MaxToken} characters.";
        }

        if (request.Params is JsonObject whole && !DistinctMembers(whole))
        {
            return "params names a member more than once.";
        }

        if (request.Method is RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe
            && !((request.Params as JsonObject)?["uri"] is JsonValue uri && uri.TryGetValue<string>(out _)))
        {
            // The SDK reads a missing or null uri as null, which no handler expects.
            return "uri is required: the resource's URI, a string.";
        }

        if (request.Params is not JsonObject p)
        {
            return null;
        }

        var meta = p["_meta"] as JsonObject;
        var client = p["clientInfo"] as JsonObject;
        if (!DistinctMembers(meta))
        {
            return "_meta names a member more than once.";
        }

        if (!DistinctMembers(client))
        {
            return "clientInfo names a member more than once.";
        }

        var violation = Over(meta?["progressToken"], MaxToken, "_meta.progressToken");
        return violation ?? request.Method switch
        {
            RequestMethods.Initialize => Over(client?["name"], MaxName, "clientInfo.name")
                ?? Over(client?["version"], MaxName, "clientInfo.version")
                ?? Over(client?["title"], MaxName, "clientInfo.title")
                ?? Over(p["protocolVersion"], 64, "protocolVersion"),
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => Over(p["name"], MaxName, "name"),
            RequestMethods.ResourcesRead or RequestMethods.ResourcesSubscribe or RequestMethods.ResourcesUnsubscribe => Over(p["uri"], MaxUri, "uri"),
            RequestMethods.ToolsList or RequestMethods.PromptsList or RequestMethods.ResourcesList or RequestMethods.ResourcesTemplatesList => Over(p["cursor"], MaxCursor, "cursor"),
            _ => null,
        };
    }

    /// <summary>
    /// Whether no name repeats among <paramref name="node"/>'s members. A parsed object builds its dictionary on the
    /// first read and throws then when a name repeats; reading <see cref="JsonObject.Count"/> makes that read here, once
    /// (the dictionary is kept), so a repeat is the agent's error and not the first handler's crash. The name is not
    /// repeated in the answer: it is the agent's text, of any length.
    /// </summary>
    private static bool DistinctMembers(JsonObject? node)
    {
        try
        {
            _ = node?.Count;
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string? Over(JsonNode? node, int max, string field) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > max
            ? $"{field} is longer than {max} characters."
            : null;
}
