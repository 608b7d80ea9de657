using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Turns what the SDK's request parsing throws on a malformed request into a JSON-RPC error the agent can read, instead
/// of an HTTP 500 with an empty body and a stack trace in the log: a value of the wrong type (<c>"protocolVersion":123</c>,
/// <c>"capabilities":"x"</c>, a 2026-07-28 <c>name</c> that is a number) is <c>-32602</c>, a JSON object with a key
/// twice is <c>-32600</c>, both with HTTP 400.
/// </summary>
/// <remarks>
/// The messages are fixed or come from the parser's own wording (a type and a JSON path, cut to a bounded length), never
/// the agent's values: a 3 MB key must not come back in the answer or go into the log. One Information line is logged.
/// </remarks>
internal sealed partial class MalformedRequestGuard(RequestDelegate next, DatabaseUnavailableGuard database, ILogger<MalformedRequestGuard> logger)
{
    /// <summary>The longest parser message passed on (they name a type and a path, not the agent's data).</summary>
    internal const int MaxDetail = 200;

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && Classify(ex) is { } refusal)
        {
            LogRefused(context.Request.Method, refusal.Message);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", id = (object?)null, error = new { code = (int)refusal.Code, message = refusal.Message } });
        }
        catch (Exception ex) when (!context.Response.HasStarted && DatabaseUnavailableGuard.IsDatabaseFailure(ex))
        {
            await database.AnswerAsync(context, ex);
        }
    }

    /// <summary>The incoming message filter: a parameter of the wrong type is the agent's error (-32602), not the gateway's (-32603).</summary>
    public static McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        try
        {
            await next(context, cancellationToken);
        }
        catch (Exception ex) when (ex is not McpException && context.JsonRpcMessage is JsonRpcRequest && Classify(ex) is { } refusal)
        {
            throw new McpProtocolException(refusal.Message, refusal.Code);
        }
    };

    /// <summary>What a parsing failure means to the agent; null for anything else (a real fault stays a fault).</summary>
    internal static (McpErrorCode Code, string Message)? Classify(Exception exception) => exception switch
    {
        JsonException json => (McpErrorCode.InvalidParams, "Invalid params: " + Bounded(json.Message)),

        // Reading a JSON node as the wrong type (a 2026-07-28 name that is a number while Mcp-Name is a string).
        InvalidOperationException { Source: "System.Text.Json" } json => (McpErrorCode.InvalidParams, "Invalid params: " + Bounded(json.Message)),
        ArgumentException { ParamName: "key" } => (McpErrorCode.InvalidRequest, "Invalid request: a JSON object in the request has the same key twice."),
        _ => null,
    };

    private static string Bounded(string message) => Protocol.ParserMessages.Bounded(message, MaxDetail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a malformed MCP {Method} request: {Reason}")]
    private partial void LogRefused(string method, string reason);
}
