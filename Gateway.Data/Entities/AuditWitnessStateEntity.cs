namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>AuditWitnessStates</c>: how one checkpoint witness is doing (the last checkpoint it took, the last time it
/// did not), kept so the console and the metrics still show it after a restart, from whichever instance pushed.
/// </summary>
public sealed class AuditWitnessStateEntity
{
    /// <summary>Gets or sets the witness's name (its directory or URL, as the console shows it).</summary>
    public required string Witness { get; set; }

    /// <summary>Gets or sets the entry of the last checkpoint it took; 0 before the first.</summary>
    public long LastSequence { get; set; }

    /// <summary>Gets or sets when it took it, Unix milliseconds; 0 before the first.</summary>
    public long LastPushedAt { get; set; }

    /// <summary>Gets or sets the last failure (after every attempt), or <see langword="null"/>.</summary>
    public string? LastError { get; set; }

    /// <summary>Gets or sets when <see cref="LastError"/> happened, Unix milliseconds; 0 when never.</summary>
    public long LastErrorAt { get; set; }
}
