using Gateway.Web.Authentication;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Refuses every MCP request of an agent acting for a revoked user with 403 and a JSON-RPC error, before anything is
/// forwarded. With no user revoked (the usual case) it costs one read of a field.
/// </summary>
internal sealed class RevokedUserMiddleware(RequestDelegate next, UserRevocations revocations)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (revocations.Any)
        {
            if (context.User.GetAgentIdentity()?.Caller?.User is { } user && revocations.Find(user) is { } revoked)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new
                {
                    jsonrpc = "2.0",
                    error = new { code = -32600, message = revoked.Refusal },
                });
                return;
            }
        }

        await next(context);
    }
}
