using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Core.Audit.Admin;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The consents users gave to the authorization server's clients: a permanent OpenIddict authorization per user, client
/// and redirect URI, with the scopes allowed. A client that registered itself (or whose metadata document an allowed host
/// serves) names itself and its redirect URI, so without a consent any link could send a signed-in user's code to
/// whoever registered it (the confused deputy of the MCP security best practices). Rows in the gateway's database, so a
/// consent given through one instance holds on every other; tokens issued under it hang off it, so withdrawing it ends them.
/// A consent given or withdrawn commits with its audit entry (<see cref="IAdminChangeTransactions"/>): its writes go
/// through OpenIddict's managers of a scope made within the change, whose context joins the change's transaction.
/// </summary>
internal sealed class OAuthConsents(IOpenIddictAuthorizationManager authorizations, IAdminChangeTransactions changes, IServiceScopeFactory scopes, TimeProvider time)
{
    /// <summary>The authorization property holding the redirect URI the user saw when they allowed the client.</summary>
    public const string RedirectUriProperty = "mcpgw_redirect_uri";

    /// <summary>The audit entries' type: <c>oauth_consent/{user}/{client id}</c>.</summary>
    public const string AuditType = "oauth_consent";

    /// <summary>
    /// The id of the user's consent to <paramref name="applicationId"/> sending codes to <paramref name="redirectUri"/>
    /// for every scope in <paramref name="scopes"/>, or <see langword="null"/> when they have not given one (or it was withdrawn).
    /// </summary>
    public async Task<string?> FindAsync(string user, string applicationId, string redirectUri, ImmutableArray<string> scopes, CancellationToken cancellationToken) =>
        await FindForRedirectAsync(authorizations, user, applicationId, redirectUri, scopes, cancellationToken) is { } authorization
            ? await authorizations.GetIdAsync(authorization, cancellationToken)
            : null;

    /// <summary>
    /// Records the user's consent (audited under their console name); yields its id, which the issued tokens carry. A
    /// user keeps one consent per client and redirect URI: allowing again (a wider scope, <c>prompt=consent</c>) adds
    /// to it, so its tokens stay valid and the consents do not pile up with each click.
    /// </summary>
    /// <exception cref="Gateway.Core.Audit.AuditUnavailableException">The entry could not be written; no consent was given.</exception>
    public Task<string> GrantAsync(ClaimsIdentity identity, string user, string applicationId, string clientId, string? clientName, string redirectUri, ImmutableArray<string> scopes, CancellationToken cancellationToken) =>
        InChangeAsync(async (entries, services) =>
        {
            var authorizations = services.GetRequiredService<IOpenIddictAuthorizationManager>();
            var authorization = await GrantAsync(authorizations, identity, user, applicationId, redirectUri, scopes, cancellationToken);
            using (AuditActor.Use(AuditActor.Console(user)))
            {
                entries.Add(AuditType, $"{user}/{clientId}", "grant", null, new { User = user, ClientId = clientId, ClientName = clientName, RedirectUri = redirectUri, Scopes = scopes });
            }

            return await authorizations.GetIdAsync(authorization, cancellationToken) ?? throw new InvalidOperationException("OpenIddict stored the consent without an id.");
        }, cancellationToken);

    /// <summary>Adds the scopes to the user's consent for the client and redirect URI, or creates it.</summary>
    private async Task<object> GrantAsync(IOpenIddictAuthorizationManager authorizations, ClaimsIdentity identity, string user, string applicationId, string redirectUri, ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        if (await FindForRedirectAsync(authorizations, user, applicationId, redirectUri, null, cancellationToken) is { } existing)
        {
            var widened = new OpenIddictAuthorizationDescriptor();
            await authorizations.PopulateAsync(widened, existing, cancellationToken);
            widened.Scopes.UnionWith(scopes);
            await authorizations.UpdateAsync(existing, widened, cancellationToken);
            return existing;
        }

        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            Principal = new ClaimsPrincipal(identity),
            Subject = user,
            Status = Statuses.Valid,
            Type = AuthorizationTypes.Permanent,
            CreationDate = time.GetUtcNow(),
            Properties = { [RedirectUriProperty] = JsonSerializer.SerializeToElement(redirectUri) },
        };
        descriptor.Scopes.UnionWith(scopes);
        return await authorizations.CreateAsync(descriptor, cancellationToken);
    }

    /// <summary>How many users have allowed the client with the stored id <paramref name="applicationId"/> (consents not withdrawn).</summary>
    public async Task<int> CountAsync(string applicationId, CancellationToken cancellationToken)
    {
        HashSet<string> users = new(StringComparer.Ordinal);
        await foreach (var authorization in authorizations.FindAsync(null, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, null, cancellationToken))
        {
            users.Add(await authorizations.GetSubjectAsync(authorization, cancellationToken) ?? string.Empty);
        }

        return users.Count;
    }

    private static async Task<object?> FindForRedirectAsync(IOpenIddictAuthorizationManager authorizations, string user, string applicationId, string redirectUri, ImmutableArray<string>? scopes, CancellationToken cancellationToken)
    {
        await foreach (var authorization in authorizations.FindAsync(user, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, scopes, cancellationToken))
        {
            // The redirect URI is part of what the user allowed: a client whose metadata document later lists another
            // one asks again before a code goes there.
            var properties = await authorizations.GetPropertiesAsync(authorization, cancellationToken);
            if (properties.TryGetValue(RedirectUriProperty, out var uri) && uri.ValueKind == JsonValueKind.String && string.Equals(uri.GetString(), redirectUri, StringComparison.Ordinal))
            {
                return authorization;
            }
        }

        return null;
    }

    /// <summary>
    /// Withdraws every consent given to the client <paramref name="clientId"/> and revokes the tokens issued under them
    /// (its users are asked again at their next sign-in through it); yields how many consents went, or
    /// <see langword="null"/> when there is no such client. The withdrawals commit with their entries, all or none.
    /// </summary>
    /// <exception cref="Gateway.Core.Audit.AuditUnavailableException">The entries could not be written; no consent was withdrawn.</exception>
    public Task<int?> WithdrawAllAsync(string clientId, CancellationToken cancellationToken) =>
        InChangeAsync((entries, services) => WithdrawAllAsync(
            services.GetRequiredService<IOpenIddictApplicationManager>(), services.GetRequiredService<IOpenIddictAuthorizationManager>(), services.GetRequiredService<IOpenIddictTokenManager>(),
            entries, clientId, cancellationToken), cancellationToken);

    private static async Task<int?> WithdrawAllAsync(
        IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens, AdminChangeEntries entries, string clientId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application
            || await applications.GetIdAsync(application, cancellationToken) is not { } applicationId)
        {
            return null;
        }

        // Read to the end first: each withdrawal writes, and a PostgreSQL connection runs one command at a time.
        List<object> given = [];
        await foreach (var authorization in authorizations.FindAsync(null, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, null, cancellationToken))
        {
            given.Add(authorization);
        }

        var withdrawn = 0;
        foreach (var authorization in given)
        {
            var id = await authorizations.GetIdAsync(authorization, cancellationToken);
            var user = await authorizations.GetSubjectAsync(authorization, cancellationToken) ?? string.Empty;
            if (id is null || !await authorizations.TryRevokeAsync(authorization, cancellationToken))
            {
                // Withdrawn by another instance meanwhile.
                continue;
            }

            await tokens.RevokeByAuthorizationIdAsync(id, cancellationToken);
            entries.Add(AuditType, $"{user}/{clientId}", "withdraw", new { User = user, ClientId = clientId }, null);
            withdrawn++;
        }

        return withdrawn;
    }

    /// <summary>
    /// Runs <paramref name="change"/> as an admin change, with OpenIddict's managers of a scope made within it: their
    /// context is the scope's first, so it joins the change's transaction (not the request's context, made before).
    /// </summary>
    private Task<T> InChangeAsync<T>(Func<AdminChangeEntries, IServiceProvider, Task<T>> change, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                await using var scope = scopes.CreateAsyncScope();
                return await change(entries, scope.ServiceProvider);
            },
            cancellationToken);
}
