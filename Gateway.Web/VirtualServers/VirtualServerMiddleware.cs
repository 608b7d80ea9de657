using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Authentication;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// Answers for the endpoints an authenticated agent may not use: <c>/mcp/{name}</c> of no virtual server (404), and an
/// endpoint other than the virtual servers the agent is limited to (403). An unauthenticated request goes on to the
/// endpoint's 401, so nobody learns the virtual servers' names without a key.
/// </summary>
internal sealed class VirtualServerMiddleware(RequestDelegate next, VirtualServerDirectory directory)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var name = VirtualServerPath.NameOf(context.Request.Path);
        var agent = (await context.AuthenticateAsync(GatewayAuthenticationDefaults.AgentScheme)).Principal.GetAgent();
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

        await next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", error = new { code = -32600, message } });
    }
}
