using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The UnsupportedProtocolVersionError (-32022) for a request of the per-request era (one whose <c>_meta</c> names a
/// protocol version) that asks for a version this server does not know. SDK 2.4.0 in StatefulForInitializeClients
/// mode lists every version it knows there, the initialize-era ones too, while its server/discover lists only the
/// per-request ones; a client is meant to pick its retry from that list, so it must not offer versions discover does
/// not (SEP-2575; the SDK already narrows the list in fully stateless mode). Initialize-era requests are left alone.
/// </summary>
public sealed class UnsupportedVersionMiddleware(RequestDelegate next)
{
    /// <summary>The versions SDK 2.4.0 serves; revisions are dates, and from 2026-07-28 on they are per-request.</summary>
    private static readonly string[] Known = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

    private static readonly string[] PerRequest = [.. Known.Where(v => string.CompareOrdinal(v, "2026-07-28") >= 0)];

    private const int MaxInspectedBody = 1 << 20;

    public async Task InvokeAsync(HttpContext context)
    {
        var requested = context.Request.Headers["MCP-Protocol-Version"].ToString();
        if (!HttpMethods.IsPost(context.Request.Method) || requested.Length == 0 || Known.Contains(requested)
            || context.Request.ContentLength > MaxInspectedBody)
        {
            await next(context);
            return;
        }

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
        if (message is not JsonObject request || request["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"] is null)
        {
            await next(context);
            return;
        }

        var error = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = request["id"]?.DeepClone(),
            ["error"] = new JsonObject
            {
                ["code"] = -32022,
                ["message"] = $"Bad Request: protocol version '{requested}' is not supported.",
                ["data"] = new JsonObject
                {
                    ["supported"] = new JsonArray([.. PerRequest.Select(v => JsonValue.Create(v))]),
                    ["requested"] = requested,
                },
            },
        };
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(error.ToJsonString(), context.RequestAborted);
    }
}
