using Gateway.Core.Servers;
using Gateway.Web.Credentials.OAuth;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Picks the upstream token of a call to a server that acts on behalf of the user (its credential mode): the user's
/// token exchanged for the upstream's audience, or the user's own connected account. Every failure is a JSON-RPC
/// error that says why (and, for an account not connected, where to connect it); nothing is forwarded then.
/// </summary>
internal sealed class UserCredentials(TokenExchange exchange, UserAccounts accounts)
{
    /// <summary>The path where a signed-in console user connects their account at a server.</summary>
    public const string ConnectPath = "/oauth/connect";

    /// <summary>The user's access token for the call to <paramref name="server"/>.</summary>
    public async ValueTask<string> AccessTokenAsync(ServerDefinition server, OnBehalfOf caller, CancellationToken cancellationToken)
    {
        if (caller.User is not { } user)
        {
            throw new McpProtocolException(
                $"'{server.Name}' acts on behalf of the signed-in user (credential mode {server.CredentialMode.Name()}), and this agent authenticated with an API key, which names no user: connect the agent with OAuth.",
                McpErrorCode.InvalidRequest);
        }

        if (server.CredentialMode == CredentialMode.TokenExchange)
        {
            try
            {
                return await exchange.TokenForAsync(server, user, caller.SubjectToken ?? string.Empty, cancellationToken);
            }
            catch (OAuthException ex)
            {
                // A refused grant is the caller's to mend (sign in again), not the gateway's fault.
                throw new McpProtocolException($"The call was not forwarded: {ex.Message}", ex.GrantRefused ? McpErrorCode.InvalidRequest : McpErrorCode.InternalError);
            }
        }

        string? reason = null;
        try
        {
            if (await accounts.TokenForAsync(server, user, cancellationToken) is { } token)
            {
                return token;
            }
        }
        catch (OAuthException ex)
        {
            // Most often the user withdrew the gateway's access at the upstream, or is no longer a user there: connecting
            // again mends it (or shows them why not). The server-credential advice of the message does not apply here.
            reason = ex.GrantRefused
                ? "the upstream's authorization server no longer accepts their refresh token (invalid_grant): the account may be disabled there or its access withdrawn"
                : ex.Message;
        }

        throw NotConnected(server, user, caller, reason);
    }

    /// <summary>Forgets a token the upstream answered 401 to.</summary>
    public void Refused(ServerDefinition server, string user, string token)
    {
        if (server.CredentialMode == CredentialMode.TokenExchange)
        {
            exchange.Refused(server.Name, user, token);
        }
        else
        {
            accounts.Refused(server.Name, user, token);
        }
    }

    private static McpProtocolException NotConnected(ServerDefinition server, string user, OnBehalfOf caller, string? reason)
    {
        var link = $"{caller.ConnectBase.TrimEnd('/')}{ConnectPath}/{Uri.EscapeDataString(server.Name)}";
        var message = $"'{server.Name}' calls its upstream with each user's own account, and {user} has not connected one"
            + (reason is null ? string.Empty : $" that still works ({reason})")
            + $": open {link} (signed in to the gateway's console as {user}), then call again.";
        return caller.OpensUrls
            ? new UrlElicitationRequiredException(message, [new ElicitRequestParams { Mode = "url", Url = link, Message = message, ElicitationId = Guid.NewGuid().ToString("N") }])
            : new McpProtocolException(message, McpErrorCode.InvalidRequest);
    }
}
