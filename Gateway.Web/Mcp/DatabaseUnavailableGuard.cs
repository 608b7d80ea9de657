using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Web.Mcp;

/// <summary>
/// A database that fails while an MCP request needs it (a busy SQLite file, a PostgreSQL failover: taking over a
/// session another instance opened, counting a session against its agent's cap) is the gateway's passing trouble, not
/// the agent's error and not a crash: 503 with <c>Retry-After</c> and a JSON-RPC error saying so, instead of an HTTP 500
/// with an empty body. Answered by <see cref="MalformedRequestGuard"/>, the one middleware on <c>/mcp</c> that turns
/// exceptions into answers (no second layer on every call); logged at most once every <see cref="LogEvery"/>, so an
/// outage does not flood the log.
/// </summary>
internal sealed partial class DatabaseUnavailableGuard(TimeProvider time, ILogger<DatabaseUnavailableGuard> logger)
{
    internal static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    internal const string Message = "The gateway's database is unavailable; try again shortly.";

    private long _loggedAt = long.MinValue;

    /// <summary>Whether <paramref name="exception"/> is the database failing (unavailable, or refusing a write): the one test the MCP endpoint, the admin API and the console use.</summary>
    public static bool IsDatabaseFailure(Exception exception) => exception is DbException or DbUpdateException;

    /// <summary>Answers the request 503 (its response not started yet).</summary>
    public async Task AnswerAsync(HttpContext context, Exception exception)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _loggedAt);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= LogEvery) && Interlocked.CompareExchange(ref _loggedAt, now, last) == last)
        {
            LogUnavailable(logger, context.Request.Method, exception.Message);
        }

        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", id = (object?)null, error = new { code = -32603, message = Message } });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An MCP {Method} request was answered 503: the database failed ({Reason}). Further ones are not logged for 10 seconds.")]
    private static partial void LogUnavailable(ILogger logger, string method, string reason);
}
