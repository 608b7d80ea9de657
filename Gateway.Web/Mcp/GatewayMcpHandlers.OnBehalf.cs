using Gateway.Core.Servers;
using Gateway.Web.Authentication;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

internal sealed partial class GatewayMcpHandlers
{
    /// <summary>Whether calls to <paramref name="server"/> carry the calling user's token rather than the server's credential.</summary>
    private bool ActsForUser(string server, out ServerDefinition definition)
    {
        definition = upstreams.TryGet(server, out var connection) ? connection.Definition : null!;
        return definition is { ActsForUsers: true };
    }

    /// <summary>
    /// Sends an agent's request to a server (prompts/get, resources/read, completion/complete, subscriptions, tasks) with what
    /// the caller brings: the agent headers the server forwards, and the calling user's upstream token (see
    /// <see cref="AsUserAsync"/>). A <c>tools/call</c> takes its headers when it is resolved (<see cref="ToolCallForwarder"/>).
    /// </summary>
    internal async Task<T> AsCallerAsync<T>(MessageContext request, string server, Func<CancellationToken, Task<T>> forward, CancellationToken cancellationToken, Action<string>? sent = null)
    {
        using (AgentHeaders.Use(upstreams.TryGet(server, out var connection) ? AgentHeaders.Capture(http.HttpContext, connection.Definition) : null))
        {
            return await AsUserAsync(request, server, forward, cancellationToken, sent);
        }
    }

    /// <summary>
    /// Sends a request to a server (tools/call, prompts/get, resources/read, completion/complete, subscriptions) with the
    /// calling user's upstream token (exchanged, or of their connected account) on its HTTP requests when the server's
    /// credential mode says so: a per-user upstream never sees the shared credential on a user's request. When there is
    /// no token to be had, the request fails with the reason and nothing reaches the upstream. The token used is told
    /// to <paramref name="sent"/>, for the result guard.
    /// </summary>
    private async Task<T> AsUserAsync<T>(MessageContext request, string server, Func<CancellationToken, Task<T>> forward, CancellationToken cancellationToken, Action<string>? sent = null)
    {
        if (!ActsForUser(server, out var definition))
        {
            return await forward(cancellationToken);
        }

        var caller = OnBehalfOf(request);
        var token = await users.AccessTokenAsync(definition, caller, cancellationToken);
        sent?.Invoke(token);
        using (UserAuthorization.Use(definition.Name, token, refused => users.Refused(definition, caller.User!, refused)))
        {
            return await forward(cancellationToken);
        }
    }

    private OnBehalfOf OnBehalfOf(MessageContext request)
    {
        var context = http.HttpContext;
        var user = request.User.GetAgentIdentity()?.Caller?.User;
        string? token = null;
        if (user is not null && context is not null && BearerToken.TryRead(context.Request, out var presented, out _, out _))
        {
            token = presented;
        }

        var origin = context is null ? string.Empty : $"{context.Request.Scheme}://{context.Request.Host}";
        return new OnBehalfOf(user, token, origin, DeclaredCapabilities.Of(request)?.Elicitation?.Url is not null);
    }
}
