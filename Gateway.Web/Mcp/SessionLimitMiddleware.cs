using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp;

/// <summary>
/// Caps the open 2025-11-25 sessions per agent, so one agent (or one leaked key) cannot exhaust the gateway's session
/// table. A request that would open a session here beyond the cap gets 429: a POST without <c>Mcp-Session-Id</c> from a
/// pre-2026 client, and a request naming a session another instance holds that it would take over (one more here). The
/// requests opening a session hold a place until their session is registered, so that a burst of them cannot all pass a
/// count taken before any of their sessions was; the registry keeps both counts (<see cref="McpSessionRegistry.TryReserveOpening"/>).
/// </summary>
internal sealed class SessionLimitMiddleware(RequestDelegate next, McpSessionRegistry sessions, SharedSessions shared, IOptionsMonitor<GatewayOptions> options)
{
    private static readonly object ReservationKey = new();

    /// <summary>Called once the request's session is registered (<see cref="McpSessionRegistry.RunAsync"/>): it stops counting as one being opened.</summary>
    public static void Registered(HttpContext context)
    {
        if (context.Items.TryGetValue(ReservationKey, out var release) && release is Action action)
        {
            action();
        }
    }

    public async Task InvokeAsync(HttpContext context)
    {
        // Most requests (a held session's, a 2026-07-28 one) are told apart by their headers and a dictionary lookup.
        if (!await OpensSessionAsync(context) || context.User.GetAgent() is not { } agent)
        {
            await next(context);
            return;
        }

        var cap = options.CurrentValue.Mcp.MaxSessionsPerAgent;
        if (!sessions.TryReserveOpening(agent.Id, cap)
            && (await sessions.DropEndedElsewhereAsync(agent.Id, context.RequestAborted) == 0 || !sessions.TryReserveOpening(agent.Id, cap)))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsJsonAsync(new
            {
                jsonrpc = "2.0",
                error = new { code = -32600, message = $"Agent '{agent.Name}' already has {cap} open sessions; close one (DELETE) or wait for idle ones to expire." },
            });
            return;
        }

        // Counted until its session is registered (Registered, from the session's handler: from then on the registry
        // counts it), or until the request ends without one.
        var released = 0;
        void Release()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                sessions.ReleaseOpening(agent.Id);
            }
        }

        context.Items[ReservationKey] = (Action)Release;
        try
        {
            await next(context);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// Whether the request would open a session here: a pre-2026 POST without a session id (2026-07-28 clients send their
    /// version on every request and never open one), or one naming a session this instance does not hold and would take
    /// over (DELETE aside, which only ends it; an unknown session stays the specification's 404).
    /// </summary>
    private async ValueTask<bool> OpensSessionAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers["Mcp-Session-Id"].ToString() is { Length: > 0 } sessionId)
        {
            return !HttpMethods.IsDelete(request.Method) && !sessions.Holds(sessionId)
                && await shared.FindMovableAsync(context, sessionId, context.RequestAborted) is not null;
        }

        return HttpMethods.IsPost(request.Method) && !ProtocolRevisions.IsPerRequest(request.Headers["MCP-Protocol-Version"].ToString());
    }
}
