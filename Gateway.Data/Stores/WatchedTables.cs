namespace Gateway.Data.Stores;

/// <summary>
/// The tables behind <see cref="IDatabaseChanges"/> on both engines: what every instance keeps a snapshot of (agents,
/// keys, grants, policies, tool classes, pins, rejected definitions, servers, console users, revoked users, per-tool
/// limits, virtual servers) or waits on (approvals, checkpoints, the instance mailbox). A committed change to any of them
/// is reported; the audit entries, usage counts and sessions written on every call are not.
/// </summary>
/// <remarks>
/// A table added later gets its trigger from its own migration on each engine and is added here; tests hold the
/// triggers of a fresh database of each engine to this list.
/// </remarks>
internal static class WatchedTables
{
    /// <summary>Tables reported on insert, update and delete.</summary>
    public static readonly string[] All =
        ["Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "Servers", "ConsoleUsers", "Approvals", "AuditCheckpoints", "ToolLimitRules", "ToolRejections", "VirtualServers", "RevokedUsers"];

    /// <summary>
    /// Tables reported on insert only: their readers delete what they read (a mailbox), and a report of each delete
    /// would wake every reader again for each read.
    /// </summary>
    public static readonly string[] InsertOnly = ["InstanceMessages"];
}
