using Gateway.Core.Identity;
using Gateway.Web.Credentials.Users;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// A refresh token is honoured only while its user may still sign in: a console user who was disabled or deleted, or a
/// user revoked on any instance (<see cref="UserRevocations"/>), gets <c>invalid_grant</c> instead of a new access token.
/// Without this a client holding a refresh token would keep getting tokens for as long as the refresh token lives.
/// </summary>
internal sealed class RefreshUserCheck(IConsoleUserStore users, UserRevocations revocations) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    /// <summary>After OpenIddict attached the refresh token's principal, before it signs the new tokens.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<RefreshUserCheck>()
        .SetOrder(0)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (context.Request?.IsRefreshTokenGrantType() != true)
        {
            return;
        }

        var user = context.Principal?.GetClaim(Claims.Subject);
        if (user is null || revocations.IsRevoked(user) || await users.FindAsync(user, context.CancellationToken) is not { Enabled: true })
        {
            context.Reject(Errors.InvalidGrant, "The user of this refresh token may no longer sign in.");
        }
    }
}
