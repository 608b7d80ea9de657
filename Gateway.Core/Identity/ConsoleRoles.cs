namespace Gateway.Core.Identity;

/// <summary>The console's roles. Admin can do everything; the others see only what their job needs.</summary>
public static class ConsoleRoles
{
    /// <summary>Everything: servers, agents, grants, policies, credentials, users, approvals, audit.</summary>
    public const string Admin = "Admin";

    /// <summary>The Approvals page: decides held calls.</summary>
    public const string Approver = "Approver";

    /// <summary>Read-only: the audit trail and read views of servers, agents and policies.</summary>
    public const string Auditor = "Auditor";

    /// <summary>Who may read the configuration (servers, agents, policies).</summary>
    public const string Readers = Admin + "," + Auditor;

    /// <summary>Who may decide approvals.</summary>
    public const string Deciders = Admin + "," + Approver;

    /// <summary>Every role, in display order.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, Approver, Auditor];

    /// <summary>Returns the known role spelled as <paramref name="value"/> (any case), or null.</summary>
    public static string? Normalize(string? value) =>
        All.FirstOrDefault(r => string.Equals(r, value?.Trim(), StringComparison.OrdinalIgnoreCase));
}
