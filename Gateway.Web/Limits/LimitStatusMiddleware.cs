using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Limits;
using Gateway.Web.Authentication;
using Gateway.Web.Mcp;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Web.Limits;

/// <summary>
/// Gives a <c>tools/call</c> that a window limit refuses (requests per minute, daily quota; the agent's own or a
/// per-tool rule's) HTTP 429 with <c>Retry-After</c>, whatever the protocol revision: over streamable HTTP the SDK
/// otherwise commits 200 and an event stream before the handler decides.
/// </summary>
/// <remarks>
/// <para>
/// Looks without counting, and only reads the body when a window is used up for the agent: other requests pay a few
/// lookups. The call itself still runs through the SDK and the pipeline, which refuses and audits it exactly as
/// always; this middleware only holds that one response back and, when it is the limit's refusal, sends it as 429
/// with the same JSON-RPC error (<c>-32029</c>, <c>data.retryAfterSeconds</c>, <c>data.limit</c>) as an
/// <c>application/json</c> body. Anything else (another refusal first, or the window ended meanwhile and the call
/// ran) is passed on unchanged, only later. A concurrency refusal is not a window, and keeps its JSON-RPC answer.
/// </para>
/// </remarks>
internal sealed class LimitStatusMiddleware(RequestDelegate next, CallLimiter limiter, UpstreamManager upstreams, TimeProvider time)
{
    // Larger bodies are left to the JSON-RPC answer. A body of unknown length (chunked, as the C# SDK client sends)
    // is read: the transport checks bound every /mcp body (Gateway:Mcp:MaxRequestBodyBytes) before this runs.
    private const int MaxInspectedBody = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.User.GetAgent() is not { } agent)
        {
            await next(context);
            return;
        }

        var now = time.GetUtcNow();
        var refusal = limiter.Peek(agent, null, null, now);
        if (refusal is null && !limiter.AnyToolWindowUsedUp(agent, now))
        {
            await next(context);
            return;
        }

        if (await ToolCalledAsync(context) is not { } name)
        {
            await next(context);
            return;
        }

        if (refusal is null && upstreams.Catalog.Tools.TryResolve(name, out var entry))
        {
            refusal = limiter.Peek(agent, entry.Server, entry.OriginalName, now);
        }

        if (refusal is null)
        {
            await next(context);
            return;
        }

        await HoldBackAsync(context);
    }

    /// <summary>The tool a request for one <c>tools/call</c> names (the 2026-07-28 headers, or the body), or null for any other request.</summary>
    private static async Task<string?> ToolCalledAsync(HttpContext context)
    {
        if (ParamHeaderValidation.IsPerRequest(context) && context.Request.Headers["Mcp-Method"].ToString() is { Length: > 0 } method)
        {
            // The SDK checks these headers against the body, and refuses a mismatch before any handler runs.
            return method == "tools/call" ? ModelContextProtocol.Protocol.McpHeaderEncoder.DecodeValue(context.Request.Headers["Mcp-Name"].ToString().Trim()) : null;
        }

        if (context.Request.ContentLength > MaxInspectedBody)
        {
            return null;
        }

        return await RawJsonRpc.PeekAsync(context) is { } request
            && request["method"] is JsonValue m && m.GetValueKind() == JsonValueKind.String && m.GetValue<string>() == "tools/call"
            && request["params"] is JsonObject parameters && parameters["name"] is JsonValue n && n.GetValueKind() == JsonValueKind.String
                ? n.GetValue<string>()
                : null;
    }

    /// <summary>Runs the request with its response held in memory, then sends it as 429 when it is a window limit's refusal, or as it was.</summary>
    private async Task HoldBackAsync(HttpContext context)
    {
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        using var held = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(held));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(original);
        }

        if (!context.Response.HasStarted && WindowRefusal(held.GetBuffer().AsSpan(0, (int)held.Length), context.Response.ContentType) is { } message)
        {
            var seconds = message["error"]!["data"]!["retryAfterSeconds"]!.GetValue<long>();
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = null;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(message.ToJsonString(), context.RequestAborted);
            return;
        }

        held.Position = 0;
        await held.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>The JSON-RPC message in a held response when it is a window limit's refusal (a JSON body, or one event of a stream).</summary>
    private static JsonObject? WindowRefusal(ReadOnlySpan<byte> body, string? contentType)
    {
        if (contentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            return IsWindowRefusal(Parse(body));
        }

        if (contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) != true)
        {
            return null;
        }

        foreach (var line in Encoding.UTF8.GetString(body).Split('\n'))
        {
            if (line.StartsWith("data:", StringComparison.Ordinal) && IsWindowRefusal(Parse(Encoding.UTF8.GetBytes(line[5..].Trim()))) is { } message)
            {
                return message;
            }
        }

        return null;
    }

    private static JsonObject? IsWindowRefusal(JsonObject? message) =>
        message?["error"] is JsonObject error && error["code"] is JsonValue code && code.GetValueKind() == JsonValueKind.Number && code.GetValue<int>() == LimitRefusal.Code
        && error["data"] is JsonObject data && data["retryAfterSeconds"] is JsonValue retry && retry.GetValueKind() == JsonValueKind.Number
        && data["limit"] is JsonValue limit && limit.GetValueKind() == JsonValueKind.String
        && limit.GetValue<string>() is var name && (name == LimitRefusal.Name(LimitKind.RequestsPerMinute) || name == LimitRefusal.Name(LimitKind.DailyQuota))
            ? message
            : null;

    private static JsonObject? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
