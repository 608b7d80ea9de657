using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Protocol;

/// <summary>
/// Finds a member named twice in one object. JSON allows it, parsers disagree on which of the two counts (the gateway's
/// checks might read one and an upstream the other), and a parsed object throws on its first read when a name repeats.
/// An agent's request with one is refused (<see cref="Mcp.AgentInputLimits"/>). What an upstream sends is screened where
/// it arrives (<see cref="Upstreams.ProgressInterceptingTransport"/>, <see cref="Upstreams.DirectToolCalls"/>): an answer
/// becomes a JSON-RPC error for its request, and a request or a notification is skipped, as the SDK client skips a
/// message it cannot read. Read as it was, such a result made the upstream look unavailable (the input-required check),
/// failed the call (the MCP Apps rewrite of <c>_meta</c>) or reached the agent with both members (structured content),
/// and such a notification ended the reader of a stdio connection.
/// </summary>
internal static class RepeatedMembers
{
    /// <summary>What the agent gets instead of an answer with a repeated member.</summary>
    public const string Message = "The upstream's answer names a member twice in one object; it was not forwarded.";

    /// <summary>
    /// <paramref name="message"/> when no object in it repeats a name; otherwise the error that stands for an answer,
    /// or null for a request or a notification.
    /// </summary>
    public static JsonRpcMessage? Screen(JsonRpcMessage message) => message switch
    {
        JsonRpcResponse response when Repeats(response.Result) => new JsonRpcError
        {
            Id = response.Id,
            Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = Message },
            Context = response.Context,
        },
        JsonRpcRequest request when Repeats(request.Params) => null,
        JsonRpcNotification notification when Repeats(notification.Params) => null,
        _ => message,
    };

    /// <summary>Whether an object in <paramref name="node"/> names a member twice.</summary>
    public static bool Repeats(JsonNode? node)
    {
        // The parser's depth limit bounds the recursion (64 levels with the SDK's options).
        switch (node)
        {
            case JsonObject members:
                try
                {
                    // The first enumeration builds the object's dictionary, which throws on a repeated name.
                    foreach (var member in members)
                    {
                        if (Repeats(member.Value))
                        {
                            return true;
                        }
                    }

                    return false;
                }
                catch (ArgumentException)
                {
                    return true;
                }

            case JsonArray items:
                foreach (var item in items)
                {
                    if (Repeats(item))
                    {
                        return true;
                    }
                }

                return false;

            default:
                return false;
        }
    }
}
