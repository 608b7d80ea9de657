using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Web.Mcp;

/// <summary>
/// The few middlewares that must answer before the SDK reads a request (as the SDK answers for its own checks: a plain
/// JSON body with an HTTP status) read it and answer here. The body stays readable for the SDK.
/// </summary>
internal static class RawJsonRpc
{
    /// <summary>Reads the request's JSON-RPC message without consuming it; null when it is not a JSON object.</summary>
    public static async Task<JsonObject?> PeekAsync(HttpContext context)
    {
        context.Request.EnableBuffering();
        JsonNode? message = null;
        try
        {
            message = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            // Not JSON: the SDK's own answer (a parse error) is the right one.
        }

        context.Request.Body.Position = 0;
        return message as JsonObject;
    }

    /// <summary>Answers with a JSON-RPC error, echoing the request's id as JSON-RPC requires, within the gateway's cap on string ids.</summary>
    public static async Task WriteErrorAsync(HttpContext context, JsonObject request, int status, int code, string message, JsonObject? data = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (data is not null)
        {
            error["data"] = data;
        }

        var id = request["id"] is JsonValue v && (v.GetValueKind() == JsonValueKind.Number || (v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length <= 128))
            ? v.DeepClone()
            : null;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = error }.ToJsonString(), context.RequestAborted);
    }
}
