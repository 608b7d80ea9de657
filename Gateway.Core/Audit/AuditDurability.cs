namespace Gateway.Core.Audit;

/// <summary>What a committed <c>started</c> entry survives before its call is forwarded.</summary>
public enum AuditDurability
{
    /// <summary>
    /// On disk (fsync) before the upstream sees the call: survives a power loss or kernel crash. The default.
    /// </summary>
    Power,

    /// <summary>
    /// Handed to the operating system before the upstream sees the call, and on disk within
    /// <see cref="AuditWriteOptions.SyncWindow"/>: survives a crash or kill of the gateway, not a power loss in that window.
    /// </summary>
    Process,
}
