using Gateway.Web.Authentication;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// Answers for the endpoints an authenticated agent may not use: <c>/mcp/{name}</c> of no virtual server (404), an
/// endpoint other than the virtual servers the agent is limited to (403), and a 2025-11-25 session used on another
/// endpoint than the one it was opened on (404, the specification's answer to a session the endpoint does not know, so
/// the client starts a new one there). An unauthenticated request goes on to the endpoint's 401, so nobody learns the
/// virtual servers' names without a credential.
/// </summary>
internal sealed class VirtualServerMiddleware(RequestDelegate next, VirtualServerDirectory directory, Mcp.McpSessionRegistry sessions)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var name = VirtualServerPath.NameOf(context.Request.Path);
        // The principal the endpoint's authorization made, whatever the credential: an API key or an OAuth token (asking
        // the API-key scheme alone let an OAuth agent limited to its virtual servers use /mcp).
        var agent = context.User.GetAgent();
        if (agent is not null)
        {
            if (name is not null && directory.Find(name) is null)
            {
                await RefuseAsync(context, StatusCodes.Status404NotFound, $"No virtual server named '{name}'.");
                return;
            }

            if (!directory.Admits(agent, name))
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, name is null
                    ? $"Agent '{agent.Name}' is limited to its virtual servers (/mcp/{{name}}); /mcp is not one of them."
                    : $"Agent '{agent.Name}' is limited to other virtual servers than '{name}'.");
                return;
            }
        }

        // A 2026-07-28 request has no session: its Mcp-Session-Id, if any, is ignored by the endpoint.
        if (context.Request.Headers["Mcp-Session-Id"].ToString() is { Length: > 0 } sessionId
            && !Protocol.ProtocolRevisions.IsPerRequest(context.Request.Headers["MCP-Protocol-Version"].ToString())
            && sessions.IsOpenedElsewhere(sessionId, name))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", error = new { code = -32001, message = "Session not found" }, id = (string?)null });
            return;
        }

        await next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", error = new { code = -32600, message } });
    }
}
