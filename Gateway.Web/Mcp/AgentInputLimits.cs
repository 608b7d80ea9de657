using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Caps the agent-supplied strings that the gateway or the SDK keep for a session's life or repeat in logs: client
/// info, tool and prompt names, request ids, progress tokens, cursors and URIs. Without caps, a 3 MB client name was
/// repeated in every log line of its session (971 bytes of requests grew the log by 120 MB). A value over its cap is
/// refused with <c>-32602</c> and a message that names the field and the cap, never the value; so is a resource request
/// without its URI, and so are parameters that name a member twice in one object (<see cref="RepeatedMembers"/>): the
/// first read of such an object threw, which reached the handlers as <c>-32603</c> with an error and its stack logged
/// for every such request, and twice-named arguments were read last-wins by the gateway, whatever the upstream reads.
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

        if (RepeatedMembers.Repeats(request.Params))
        {
            return "params name a member twice in one object.";
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

    private static string? Over(JsonNode? node, int max, string field) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > max
            ? $"{field} is longer than {max} characters."
            : null;
}
