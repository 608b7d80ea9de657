using System.Text.Json.Nodes;
using Gateway.Web.Protocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// Answers a per-request-era request (its <c>_meta</c> names a protocol version) that asks for a revision the gateway does
/// not serve with UnsupportedProtocolVersionError (-32022) listing what <c>server/discover</c> lists. SDK 2.4.0 in the
/// gateway's hybrid session mode lists every revision it knows there, the initialize-era ones too, while discover lists
/// only the per-request ones; a client picks its retry from that list, so the two must agree (SEP-2575). Only this rare
/// path reads the body (an unknown version header); everything else passes untouched.
/// </summary>
internal sealed class UnsupportedVersionMiddleware(RequestDelegate next)
{
    // An unknown version with a larger body is left to the SDK (whose list is then longer, but the answer still -32022).
    private const int MaxInspectedBody = 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var requested = context.Request.Headers["MCP-Protocol-Version"].ToString();
        // Unauthenticated requests go on to get their 401: nothing is answered before the agent is known.
        if (!HttpMethods.IsPost(context.Request.Method) || requested.Length == 0 || ProtocolRevisions.Known.Contains(requested)
            || context.User.Identity?.IsAuthenticated != true
            || context.Request.ContentLength is null or > MaxInspectedBody)
        {
            await next(context);
            return;
        }

        if (await RawJsonRpc.PeekAsync(context) is not { } request || request["params"] is not JsonObject parameters
            || parameters["_meta"] is not JsonObject meta || meta["io.modelcontextprotocol/protocolVersion"] is null)
        {
            await next(context);
            return;
        }

        await RawJsonRpc.WriteErrorAsync(context, request, StatusCodes.Status400BadRequest, -32022, "Bad Request: this protocol version is not supported.", new JsonObject
        {
            ["supported"] = new JsonArray([.. ProtocolRevisions.PerRequestRevisions.Select(v => JsonValue.Create(v))]),

            // The agent's value, bounded: the header is the agent's input.
            ["requested"] = requested.Length <= 64 ? requested : requested[..64],
        });
    }
}
