namespace Gateway.Web.Mcp.Resumption;

/// <summary>
/// A GET resuming a standalone stream this instance does not record (another instance served the stream before, or it
/// ended) is served as a fresh standalone stream, as that GET without <c>Last-Event-ID</c> would be, rather than
/// refused: behind a balancer without affinity the agent's reconnection may reach any instance.
/// </summary>
internal sealed class StandaloneStreamResumption(RequestDelegate next, StandaloneStreamStore store)
{
    private const string LastEventId = "Last-Event-ID";

    public Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Headers.TryGetValue(LastEventId, out var id) && !store.Knows(id.ToString()))
        {
            context.Request.Headers.Remove(LastEventId);
        }

        return next(context);
    }
}
