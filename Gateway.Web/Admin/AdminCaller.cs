using System.Security.Claims;
using Gateway.Core.Audit.Admin;

namespace Gateway.Web.Admin;

/// <summary>The caller of an admin operation.</summary>
/// <param name="User">Their principal, with role claims (the admin key carries the role Admin).</param>
/// <param name="AuditName">How the admin-change audit names them (<c>admin-api</c>, <c>console:alice</c>).</param>
public sealed record AdminCaller(ClaimsPrincipal User, string AuditName)
{
    /// <summary>Gets the caller's own name (an agent's owner, who decided or pinned); <c>admin</c> when unnamed.</summary>
    public string Name => User.Identity?.Name is { Length: > 0 } name ? name : "admin";

    /// <summary>Whether the caller holds one of the roles.</summary>
    public bool IsInAnyRole(params ReadOnlySpan<string> roles)
    {
        foreach (var role in roles)
        {
            if (User.IsInRole(role))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Names the caller in the admin-change audit of the store writes made until the scope is disposed.</summary>
    public IDisposable Audit() => AuditActor.Use(AuditName);
}
