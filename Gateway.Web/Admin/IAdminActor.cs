namespace Gateway.Web.Admin;

/// <summary>
/// Who is asking for an admin operation, in the current scope: the admin API request's user, or the console circuit's
/// signed-in user. Operations ask it themselves, so no caller can forget the role check.
/// </summary>
public interface IAdminActor
{
    /// <summary>Resolves the current caller.</summary>
    ValueTask<AdminCaller> CurrentAsync();
}
