using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Keeps an upstream's multi round-trip result (<c>resultType: input_required</c>) away from the SDK client, which would
/// otherwise answer it itself with its own handlers and retry. The gateway is not the one asked: the agent is. So the
/// upstream transport hides the marker as it reads the response (<see cref="Hide"/>), and the gateway takes the result
/// back (<see cref="TryTake"/>) and relays it to the agent.
/// </summary>
internal static class InputRequiredPassThrough
{
    private const string ResultType = "resultType";
    private const string Marker = "input_required";
    private const string Hidden = "gateway/input_required";

    /// <summary>Hides the marker of an input-required response, in place.</summary>
    public static void Hide(JsonRpcMessage message)
    {
        if (message is JsonRpcResponse { Result: JsonObject result } && IsString(result[ResultType], Marker))
        {
            result[ResultType] = Hidden;
        }
    }

    /// <summary>Takes an input-required result back from a response <see cref="Hide"/> saw.</summary>
    public static bool TryTake(JsonNode? result, out InputRequiredResult inputRequired)
    {
        if (result is JsonObject obj && IsString(obj[ResultType], Hidden))
        {
            obj[ResultType] = Marker;
            inputRequired = obj.Deserialize<InputRequiredResult>(McpJsonUtilities.DefaultOptions)
                ?? throw new McpProtocolException("The upstream returned an empty input-required result.", McpErrorCode.InternalError);
            return true;
        }

        inputRequired = null!;
        return false;
    }

    private static bool IsString(JsonNode? node, string value) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == value;
}
