using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Authentication.OAuth.Server;

namespace Gateway.Web.Admin.OAuthClients;

/// <summary>
/// The clients of the gateway's authorization server as admins and auditors see them (read only: a client exists
/// because an allowed host published its document or because registration is on; both are configuration).
/// </summary>
internal sealed class OAuthClientOperations(IAdminActor actor, AgentOAuthSettings settings, IServiceScopeFactory scopes)
{
    /// <summary>Every client, last seen first; none while the authorization server is off.</summary>
    public async Task<AdminResult<OAuthClientList>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        if (refusal is not null)
        {
            return refusal;
        }

        var server = settings.AuthorizationServer;
        if (!server.Enabled)
        {
            return AdminResult.Done(new OAuthClientList(false, [], false, []));
        }

        // A scope of its own: OpenIddict's store reads through a fresh context, not one a console circuit keeps for hours.
        await using var scope = scopes.CreateAsyncScope();
        var clients = await scope.ServiceProvider.GetRequiredService<Gateway.Web.Authentication.OAuth.Server.OAuthClients>().ListAsync(cancellationToken);
        return AdminResult.Done(new OAuthClientList(true, server.ClientMetadataHosts, server.DynamicClientRegistration, clients));
    }
}

/// <summary>The authorization server's clients and how clients may become known.</summary>
/// <param name="Enabled">Whether the gateway's authorization server is on.</param>
/// <param name="ClientMetadataHosts">The hosts whose client metadata documents are fetched.</param>
/// <param name="DynamicClientRegistration">Whether clients may register themselves.</param>
/// <param name="Clients">The clients, last seen first.</param>
public sealed record OAuthClientList(bool Enabled, IReadOnlyList<string> ClientMetadataHosts, bool DynamicClientRegistration, IReadOnlyList<OAuthClientInfo> Clients);
