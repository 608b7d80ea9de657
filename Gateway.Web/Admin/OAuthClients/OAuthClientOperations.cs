using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Authentication.OAuth.Server;

namespace Gateway.Web.Admin.OAuthClients;

/// <summary>
/// The clients of the gateway's authorization server as admins and auditors see them (a client exists because an allowed
/// host published its document or because registration is on; both are configuration), and the one change admins make
/// to them: withdrawing the consents users gave a client, which ends the tokens it holds.
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

    /// <summary>The longest client id taken: a metadata document's URL is bounded alike when fetched.</summary>
    public const int MaxClientIdLength = 2048;

    /// <summary>
    /// Withdraws every consent users gave the client <paramref name="clientId"/> and revokes the access and refresh tokens
    /// issued under them; its users are asked again at their next sign-in through it.
    /// </summary>
    public async Task<AdminResult<ConsentWithdrawal>> WithdrawConsentsAsync(string? clientId, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (string.IsNullOrEmpty(clientId) || clientId.Length > MaxClientIdLength)
        {
            return AdminResult.Invalid(new Dictionary<string, string[]> { ["clientId"] = [$"Name the client by its client id (at most {MaxClientIdLength} characters)."] }, "No consent was withdrawn.");
        }

        if (!settings.AuthorizationServer.Enabled)
        {
            return AdminResult.NotFound("The gateway's authorization server is off.");
        }

        await using var scope = scopes.CreateAsyncScope();
        using var audit = caller.Audit();
        var withdrawn = await scope.ServiceProvider.GetRequiredService<OAuthConsents>().WithdrawAllAsync(clientId, cancellationToken);
        return withdrawn is { } count ? AdminResult.Done(new ConsentWithdrawal(clientId, count)) : AdminResult.NotFound($"No client '{clientId}'.");
    }
}

/// <summary>What withdrawing a client's consents did.</summary>
/// <param name="ClientId">The client.</param>
/// <param name="Withdrawn">How many users' consents were withdrawn (their tokens from it revoked).</param>
public sealed record ConsentWithdrawal(string ClientId, int Withdrawn);

/// <summary>The authorization server's clients and how clients may become known.</summary>
/// <param name="Enabled">Whether the gateway's authorization server is on.</param>
/// <param name="ClientMetadataHosts">The hosts whose client metadata documents are fetched.</param>
/// <param name="DynamicClientRegistration">Whether clients may register themselves.</param>
/// <param name="Clients">The clients, last seen first.</param>
public sealed record OAuthClientList(bool Enabled, IReadOnlyList<string> ClientMetadataHosts, bool DynamicClientRegistration, IReadOnlyList<OAuthClientInfo> Clients);
