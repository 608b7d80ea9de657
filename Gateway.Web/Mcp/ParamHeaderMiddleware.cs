using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Authentication;
using Gateway.Web.Upstreams;

namespace Gateway.Web.Mcp;

/// <summary>
/// Checks SEP-2243 <c>Mcp-Param-*</c> headers of a 2026-07-28 <c>tools/call</c> before the SDK reads the request, so a
/// mismatch is answered as the SDK answers it for its own tools: HTTP 400 with a plain JSON-RPC error (-32020), not an
/// event stream. Only requests that carry such a header pay for reading the body here; a header that is missing while
/// its argument is present is caught in the handler (<see cref="ParamHeaderValidation.Check"/>).
/// </summary>
internal sealed class ParamHeaderMiddleware(RequestDelegate next, UpstreamManager upstreams, TimeProvider time)
{
    // Larger bodies are left to the handler's check (same verdict, as an event stream).
    private const int MaxInspectedBody = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        // A 2026-07-28 tools/call names its tool in the Mcp-Name header (the SDK checks it against the body): the body is
        // read here only when that tool has x-mcp-header parameters, so other calls pay nothing.
        if (!HttpMethods.IsPost(context.Request.Method) || !ParamHeaderValidation.IsPerRequest(context)
            || context.Request.Headers["Mcp-Method"].ToString() != "tools/call"
            || ModelContextProtocol.Protocol.McpHeaderEncoder.DecodeValue(context.Request.Headers["Mcp-Name"].ToString().Trim()) is not { Length: > 0 } toolName
            || context.Request.ContentLength is null or > MaxInspectedBody || context.User.GetAgent() is not { } agent
            || !upstreams.Catalog.Tools.TryResolve(toolName, out var named) || !ParamHeaderValidation.Declares(named.Item.Exposed))
        {
            await next(context);
            return;
        }

        if (await RawJsonRpc.PeekAsync(context) is { } request && request["method"] is JsonValue method && method.GetValueKind() == JsonValueKind.String
            && method.GetValue<string>() == "tools/call" && request["params"] is JsonObject parameters
            && parameters["name"] is JsonValue nameNode && nameNode.GetValueKind() == JsonValueKind.String
            && upstreams.Catalog.Tools.TryResolve(nameNode.GetValue<string>(), out var entry)
            && agent.Grants.Allows(entry.Server, entry.OriginalName, entry.Class, time.GetUtcNow()))
        {
            context.Items[ParamHeaderValidation.CheckedKey] = true;
            if (ParamHeaderValidation.Mismatch(context, entry.Item.Exposed, parameters["arguments"]) is { } mismatch)
            {
                await RawJsonRpc.WriteErrorAsync(context, request, StatusCodes.Status400BadRequest, -32020, mismatch);
                return;
            }
        }

        await next(context);
    }
}
