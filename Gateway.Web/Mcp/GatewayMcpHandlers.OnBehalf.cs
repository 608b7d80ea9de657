using Gateway.Core.Servers;
using Gateway.Web.Authentication;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Protocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

internal sealed partial class GatewayMcpHandlers
{
    /// <summary>Whether calls to <paramref name="server"/> carry the calling user's token rather than the server's credential.</summary>
    private bool ActsForUser(string server, out ServerDefinition definition)
    {
        definition = upstreams.TryGet(server, out var connection) ? connection.Definition : null!;
        return definition is { CredentialMode: not CredentialMode.Shared };
    }

    /// <summary>
    /// Forwards with the user's upstream token (exchanged, or of their connected account) on its HTTP requests; when
    /// there is none to be had, the call fails with the reason and nothing reaches the upstream.
    /// </summary>
    private async ValueTask<CallToolResult> ForwardForUserAsync(
        RequestContext<CallToolRequestParams> request, ServerDefinition server, Func<CancellationToken, ValueTask<CallToolResult>> forward, CancellationToken cancellationToken)
    {
        var caller = OnBehalfOf(request);
        var token = await users.AccessTokenAsync(server, caller, cancellationToken);
        using (UserAuthorization.Use(server.Name, token, refused => users.Refused(server, caller.User!, refused)))
        {
            return await forward(cancellationToken);
        }
    }

    private OnBehalfOf OnBehalfOf(MessageContext request)
    {
        var context = http.HttpContext;
        var user = request.User.GetAgentIdentity()?.Caller?.User;
        string? token = null;
        if (user is not null && context is not null && BearerToken.TryRead(context.Request, out var presented, out _))
        {
            token = presented;
        }

        var origin = context is null ? string.Empty : $"{context.Request.Scheme}://{context.Request.Host}";
        return new OnBehalfOf(user, token, origin, DeclaredCapabilities.Of(request)?.Elicitation?.Url is not null);
    }
}
