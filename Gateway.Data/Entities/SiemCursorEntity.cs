namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>SiemCursors</c>: how far one SIEM sink has delivered the audit trail, and which instance streams it now
/// (a lease, so instances sharing the database take turns instead of sending every entry twice).
/// </summary>
public sealed class SiemCursorEntity
{
    /// <summary>Gets or sets the sink's name (<c>Gateway:Siem:Sinks:{name}</c>).</summary>
    public required string Sink { get; set; }

    /// <summary>Gets or sets the sequence of the last entry the receiver acknowledged; 0 before the first.</summary>
    public long Sequence { get; set; }

    /// <summary>
    /// Gets or sets the sequence of the last signed checkpoint the receiver acknowledged (checkpoints travel in the
    /// stream too, as witnesses of the chain's head; never ahead of <see cref="Sequence"/>); 0 before the first.
    /// </summary>
    public long CheckpointSequence { get; set; }

    /// <summary>Gets or sets the instance holding the lease, or <see langword="null"/>.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>Gets or sets when the lease ends, Unix milliseconds (numbers: compared the same way on both engines).</summary>
    public long LeaseUntil { get; set; }

    /// <summary>Gets or sets when a batch was last delivered, Unix milliseconds; 0 before the first.</summary>
    public long LastSuccessAt { get; set; }

    /// <summary>Gets or sets the last delivery error, cleared by the next success.</summary>
    public string? LastError { get; set; }

    /// <summary>Gets or sets when <see cref="LastError"/> happened, Unix milliseconds.</summary>
    public long LastErrorAt { get; set; }
}
