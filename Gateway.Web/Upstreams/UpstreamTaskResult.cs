using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Recognizes an upstream's answer to <c>tools/call</c> that is a task handle (the tasks extension's flat
/// CreateTaskResult, <c>resultType: "task"</c>) rather than a CallToolResult. The SDK client leaves such a result alone;
/// read as a CallToolResult it would become an empty success.
/// </summary>
internal static class UpstreamTaskResult
{
    /// <summary>
    /// The longest task id taken from an upstream (ids seen in practice are UUIDs): the gateway seals it into the id the
    /// agent gets and keeps that in the database while it follows the task, both bounded.
    /// </summary>
    public const int MaxTaskIdLength = 1024;

    public static bool TryTake(JsonNode? result, [NotNullWhen(true)] out JsonObject? task)
    {
        task = null;
        if (result is not JsonObject obj || !IsString(obj["resultType"], out var type) || type != "task")
        {
            return false;
        }

        if (!IsString(obj["taskId"], out var id) || id.Length == 0)
        {
            throw new McpProtocolException("The upstream answered with a task that has no taskId.", McpErrorCode.InternalError);
        }

        if (id.Length > MaxTaskIdLength)
        {
            throw new McpProtocolException($"The upstream answered with a taskId longer than {MaxTaskIdLength} characters.", McpErrorCode.InternalError);
        }

        task = obj;
        return true;
    }

    private static bool IsString(JsonNode? node, [NotNullWhen(true)] out string? value)
    {
        value = node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        return value is not null;
    }
}
