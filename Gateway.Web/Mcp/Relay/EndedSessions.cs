using System.Collections.Concurrent;

namespace Gateway.Web.Mcp.Relay;

/// <summary>
/// The 2025-11-25 sessions whose client ended them on another instance (<see cref="SessionEndings"/>): this instance
/// still holds its own copy of such a session (it began or continued it), which the SDK would serve until it idles out. Requests naming one get
/// the specification's 404 here instead, as on the instance that ended it. Remembered for as long as a session may
/// move at all (<c>Gateway:Mcp:SharedSessionLifetime</c>), and bounded.
/// </summary>
internal sealed class EndedSessions(TimeProvider time)
{
    /// <summary>The most ended sessions remembered; past it, the oldest expiries are forgotten first.</summary>
    public const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    /// <summary>Gets how many are remembered.</summary>
    public int Count => _ended.Count;

    /// <summary>Whether the client ended <paramref name="sessionId"/> on another instance.</summary>
    public bool IsEnded(string sessionId) =>
        !_ended.IsEmpty && _ended.TryGetValue(sessionId, out var expires) && expires > time.GetUtcNow();

    /// <summary>Remembers that <paramref name="sessionId"/> ended, until <paramref name="expires"/>.</summary>
    public void Add(string sessionId, DateTimeOffset expires)
    {
        if (_ended.Count >= MaxRemembered)
        {
            var now = time.GetUtcNow();
            foreach (var (id, until) in _ended)
            {
                if (until <= now)
                {
                    _ended.TryRemove(id, out _);
                }
            }

            foreach (var (id, _) in _ended.OrderBy(e => e.Value).Take(_ended.Count - MaxRemembered + 1))
            {
                _ended.TryRemove(id, out _);
            }
        }

        _ended[sessionId] = expires;
    }

    /// <summary>Answers 404 (as the SDK does for an unknown session) to a request that names an ended session.</summary>
    public async Task RefuseEndedAsync(HttpContext context, RequestDelegate next)
    {
        if (!_ended.IsEmpty
            && context.Request.Headers["Mcp-Session-Id"].ToString() is { Length: > 0 } sessionId
            && IsEnded(sessionId))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}""", context.RequestAborted);
            return;
        }

        await next(context);
    }
}
