using System.Security.Claims;
using Gateway.Core.Identity;
using Gateway.Web.Identity;
using Microsoft.AspNetCore.Components.Authorization;

namespace Gateway.Web.Admin;

/// <summary>
/// The scoped <see cref="IAdminActor"/>. The admin API sets the request's user when the request enters the API group;
/// in a console circuit nothing sets it and the circuit's authentication state answers who signed in to the console, with
/// their roles as they are now.
/// </summary>
internal sealed class AdminActor(IServiceProvider services) : IAdminActor
{
    private AdminCaller? _caller;

    /// <summary>Sets the caller for the rest of this scope (one admin API request).</summary>
    public void Set(ClaimsPrincipal user, string auditName) => _caller = new AdminCaller(user, auditName);

    public async ValueTask<AdminCaller> CurrentAsync()
    {
        if (_caller is not null)
        {
            return _caller;
        }

        var user = services.GetService<AuthenticationStateProvider>() is { } provider
            ? (await provider.GetAuthenticationStateAsync()).User
            : new ClaimsPrincipal(new ClaimsIdentity());

        // A circuit's state is the principal it started with (the cookie is checked again only on HTTP requests): the
        // user's roles and standing are read again for each operation, so a page left open keeps no role the user lost,
        // and a disabled user can do nothing from it.
        if (user.GetUserId() is { } id && services.GetService<IConsoleUserStore>() is { } users)
        {
            user = await users.GetAsync(id, CancellationToken.None) is { Enabled: true } current
                ? ConsoleClaims.Create(current)
                : new ClaimsPrincipal(new ClaimsIdentity());
        }

        return new AdminCaller(user, Gateway.Core.Audit.Admin.AuditActor.Console(user.Identity?.Name));
    }
}
