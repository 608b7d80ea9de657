using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp;

/// <summary>
/// Caps the open 2025-11-25 sessions per agent, so one agent (or one leaked key) cannot exhaust the gateway's session
/// table. A request that would open a session (a POST without <c>Mcp-Session-Id</c> from a pre-2026 client) beyond the
/// cap gets 429.
/// </summary>
internal sealed class SessionLimitMiddleware(RequestDelegate next, McpSessionRegistry sessions, IOptionsMonitor<GatewayOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsPost(context.Request.Method) && !context.Request.Headers.ContainsKey("Mcp-Session-Id") && OpensSession(context.Request))
        {
            var agent = context.User.GetAgent();
            var cap = options.CurrentValue.Mcp.MaxSessionsPerAgent;
            if (agent is not null && sessions.CountFor(agent.Id) >= cap
                && (await sessions.DropEndedElsewhereAsync(agent.Id, context.RequestAborted) == 0 || sessions.CountFor(agent.Id) >= cap))
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                await context.Response.WriteAsJsonAsync(new
                {
                    jsonrpc = "2.0",
                    error = new { code = -32600, message = $"Agent '{agent.Name}' already has {cap} open sessions; close one (DELETE) or wait for idle ones to expire." },
                });
                return;
            }
        }

        await next(context);
    }

    /// <summary>2026-07-28 clients send their version on every request and never open a session.</summary>
    private static bool OpensSession(HttpRequest request) =>
        !ProtocolRevisions.IsPerRequest(request.Headers["MCP-Protocol-Version"].ToString());
}
