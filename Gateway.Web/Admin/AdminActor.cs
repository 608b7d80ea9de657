using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace Gateway.Web.Admin;

/// <summary>
/// The scoped <see cref="IAdminActor"/>. The admin API sets the request's user when the request enters the API group;
/// in a console circuit nothing sets it and the circuit's authentication state answers (who signed in to the console).
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

        // Not cached: a console user's roles can change while the circuit lives, and the state provider has the latest.
        var user = services.GetService<AuthenticationStateProvider>() is { } provider
            ? (await provider.GetAuthenticationStateAsync()).User
            : new ClaimsPrincipal(new ClaimsIdentity());
        return new AdminCaller(user, "console:" + (user.Identity?.Name ?? "anonymous"));
    }
}
