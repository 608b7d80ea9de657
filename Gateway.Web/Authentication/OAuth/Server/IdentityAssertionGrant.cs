using System.Collections.Immutable;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;
using Gateway.Core.Sessions;
using Gateway.Web.Credentials.Users;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The token endpoint's JWT bearer grant for Identity Assertion JWT Authorization Grants (ID-JAG: the MCP
/// Enterprise-Managed Authorization extension). An enterprise IdP the operator trusts vouches for a user and a client;
/// the gateway checks the assertion (<see cref="IdentityAssertionValidator"/>), takes its <c>jti</c> once across every
/// instance (replay is refused, as the extension requires), and issues an access token for that user: the user is
/// <c>{sub}@{issuer host}</c>, as the console names users of an OpenID Connect IdP, so a user known to the console
/// brings their roles as groups, and a disabled or revoked one is refused. No consent page (the IdP's policy decided)
/// and no refresh token (the client asks its IdP for a new assertion); each redemption is an audit entry. Scopes: those asked for and allowed by the
/// assertion (the assertion's own when none are asked for); a scope the gateway does not offer refuses the grant.
/// </summary>
internal sealed class IdentityAssertionGrant(
    IdentityAssertionValidator validator,
    ISingleUseLedger ledger,
    IConsoleUserStore users,
    UserRevocations revocations,
    AgentOAuthSettings settings,
    ProtectedResource resource,
    OAuthIssuer issuer,
    IAdminChangeTransactions changes) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    /// <summary>RFC 7523's grant type.</summary>
    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    /// <summary>The audit entries' type: <c>oauth_assertion/{user}/{client id}</c>, one per redeemed assertion.</summary>
    public const string AuditType = "oauth_assertion";

    /// <summary>The grant profile the metadata names (<c>authorization_grant_profiles_supported</c>).</summary>
    public const string Profile = "urn:ietf:params:oauth:grant-profile:id-jag";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<IdentityAssertionGrant>()
        .SetOrder(0)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (context.Request is not { GrantType: GrantType } request)
        {
            return;
        }

        var check = await validator.ValidateAsync(request.Assertion, request.ClientId, issuer.Url, resource.Resource, context.CancellationToken);
        if (check.Assertion is not { } assertion)
        {
            context.Reject(Errors.InvalidGrant, check.Refusal);
            return;
        }

        var offered = settings.Scopes.ToHashSet(StringComparer.Ordinal);
        if (assertion.Scopes?.FirstOrDefault(s => !offered.Contains(s)) is { } unknown)
        {
            context.Reject(Errors.InvalidGrant, $"The assertion allows scope '{(unknown.Length <= 64 ? unknown : unknown[..64] + "…")}', which this gateway does not offer.");
            return;
        }

        var allowed = assertion.Scopes ?? [];
        var asked = request.GetScopes();
        var scopes = (asked.IsEmpty ? allowed : asked.Intersect(allowed, StringComparer.Ordinal)).Where(s => s != Scopes.OfflineAccess).ToImmutableArray();

        // One use per assertion across the instances, for as long as it could be accepted.
        if (!await ledger.TryTakeAsync(ReplayKey(assertion), assertion.ExpiresAt + settings.ClockSkew, context.CancellationToken))
        {
            context.Reject(Errors.InvalidGrant, "The assertion was used already.");
            return;
        }

        var user = $"{assertion.Subject}@{(Uri.TryCreate(assertion.Issuer, UriKind.Absolute, out var uri) ? uri.Authority : assertion.Issuer)}";
        var known = await users.FindAsync(user, context.CancellationToken);
        if (revocations.IsRevoked(user) || known is { Enabled: false })
        {
            context.Reject(Errors.InvalidGrant, "The assertion's user may no longer sign in to this gateway.");
            return;
        }

        // In the trail like a consent: the IdP decided for the user here, and auditors see who got access through it.
        // Committed before the token is issued, so no access goes without its entry (a crash in between leaves an entry
        // of a grant whose token never left); when it cannot be written, no token is issued.
        try
        {
            using (AuditActor.Use(AuditActor.Console(user)))
            {
                await changes.RunAsync(
                    entries =>
                    {
                        entries.Add(AuditType, $"{user}/{request.ClientId}", "grant", null, new { User = user, request.ClientId, assertion.Issuer, AssertionId = assertion.Id, Scopes = scopes });
                        return Task.FromResult(true);
                    },
                    context.CancellationToken);
            }
        }
        catch (AuditUnavailableException)
        {
            // The assertion is spent (its jti taken above): the client asks its IdP for a new one, as after any refusal.
            context.Reject(Errors.TemporarilyUnavailable, "The grant could not be recorded in the gateway's audit trail; try again later with a new assertion.");
            return;
        }

        var identity = AccessTokenIdentity.Create(user, known?.DisplayName ?? assertion.Name, known?.Roles ?? [], scopes, settings, resource);
        context.SignIn(new ClaimsPrincipal(identity));
    }

    // Hashed: the ledger's keys are bounded, and an issuer's jti may be long or hold anything.
    private static string ReplayKey(IdentityAssertion assertion) =>
        "idjag:" + WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.UTF8.GetBytes(assertion.Issuer + "\n" + assertion.Id)));
}
