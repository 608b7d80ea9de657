using Gateway.Core.Limits;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Limits;

/// <summary>
/// How an agent hears that a limit refused its call: a JSON-RPC error <see cref="Code"/> whose message names the limit,
/// with <c>data.retryAfterSeconds</c> and <c>data.limit</c> for clients that back off by themselves.
/// </summary>
/// <remarks>
/// Over streamable HTTP the SDK commits a 2025-11-25 session's response (200, an event stream) before the tool handler
/// runs; <see cref="LimitStatusMiddleware"/> therefore sends a window limit's refusal of a single <c>tools/call</c>
/// as HTTP 429 with <c>Retry-After</c> and this error as its JSON body. Everywhere else (stdio, a concurrency refusal,
/// a call inside a batch) the JSON-RPC error alone says it.
/// </remarks>
internal static class LimitRefusal
{
    /// <summary>The JSON-RPC error code of a limit refusal (implementation-defined server error range; 429 mnemonic).</summary>
    public const int Code = -32029;

    /// <summary>The limit's name in <c>data.limit</c> and the API: <c>requestsPerMinute</c>, <c>maxConcurrent</c>, <c>dailyQuota</c>.</summary>
    public static string Name(LimitKind kind) => kind switch
    {
        LimitKind.RequestsPerMinute => "requestsPerMinute",
        LimitKind.Concurrency => "maxConcurrent",
        LimitKind.DailyQuota => "dailyQuota",
        _ => "none",
    };

    public static McpProtocolException Exception(string message, TimeSpan? retryAfter, LimitKind limit) => Exception(message, retryAfter, Name(limit));

    public static McpProtocolException Exception(string message, TimeSpan? retryAfter, string limit)
    {
        var exception = new McpProtocolException(message, (McpErrorCode)Code);
        exception.Data["retryAfterSeconds"] = (long)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds);
        exception.Data["limit"] = limit;
        return exception;
    }
}
