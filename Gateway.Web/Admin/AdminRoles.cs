using Gateway.Core.Identity;

namespace Gateway.Web.Admin;

/// <summary>Which roles may do what, checked by the operations themselves (the API's route policies say the same).</summary>
internal static class AdminRoles
{
    /// <summary>Changing servers, agents, policies, pins, classes and users.</summary>
    public static readonly string[] Change = [ConsoleRoles.Admin];

    /// <summary>Reading the configuration.</summary>
    public static readonly string[] Read = [ConsoleRoles.Admin, ConsoleRoles.Auditor];

    /// <summary>Deciding held calls.</summary>
    public static readonly string[] Decide = [ConsoleRoles.Admin, ConsoleRoles.Approver];

    /// <summary>The caller, or the refusal when they hold none of <paramref name="roles"/>.</summary>
    public static async ValueTask<(AdminCaller Caller, AdminResult? Refusal)> AuthorizeAsync(this IAdminActor actor, string[] roles)
    {
        var caller = await actor.CurrentAsync();
        return caller.IsInAnyRole(roles)
            ? (caller, null)
            : (caller, AdminResult.Forbidden($"This needs the role {string.Join(" or ", roles)}."));
    }
}
