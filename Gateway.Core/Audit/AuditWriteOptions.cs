namespace Gateway.Core.Audit;

/// <summary>How the audit writer trades the cost of a commit against what a crash can take.</summary>
public sealed class AuditWriteOptions
{
    /// <summary>Gets or sets what a <c>started</c> entry survives before its call is forwarded. The default is <see cref="AuditDurability.Power"/>.</summary>
    public AuditDurability Durability { get; set; } = AuditDurability.Power;

    /// <summary>
    /// Gets or sets the longest time an entry stays committed but not yet on disk: <c>started</c> entries in
    /// <see cref="AuditDurability.Process"/> mode, and the entries nobody waits for (completions, refusals, admin changes)
    /// in both modes. The default is 10 ms.
    /// </summary>
    public TimeSpan SyncWindow { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Gets or sets how long an entry nobody waits for may stay queued in memory so that it shares the next call's commit
    /// instead of paying for its own. A crash in that window loses it; for a completion, the next start's recovery
    /// records the call as <c>unknown</c>. The default is 5 ms.
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The most a window may be: beyond it, a crash could take more than a moment's worth of the trail.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromSeconds(1);

    /// <summary>Lists what is wrong with these settings, in the words of their configuration keys.</summary>
    /// <param name="section">The configuration section, for the messages.</param>
    public IEnumerable<string> Validate(string section)
    {
        if (!Enum.IsDefined(Durability))
        {
            yield return $"{section}:Durability must be 'power' or 'process'.";
        }

        if (SyncWindow <= TimeSpan.Zero || SyncWindow > MaxWindow)
        {
            yield return $"{section}:SyncWindow must be more than 0 and at most {MaxWindow.TotalMilliseconds:0} ms.";
        }

        if (CoalesceWindow < TimeSpan.Zero || CoalesceWindow > MaxWindow)
        {
            yield return $"{section}:CoalesceWindow must be between 0 and {MaxWindow.TotalMilliseconds:0} ms.";
        }
    }
}
