namespace Gateway.Data.Entities;

/// <summary>
/// Row of <c>CallsInFlight</c>: a tool call whose <c>started</c> audit entry is written and whose end is not yet. Kept by
/// the audit appenders in the same transaction as the entries, so the crash recovery at start reads the calls in flight
/// instead of searching the whole audit table for started entries without an end.
/// </summary>
public sealed class CallInFlightEntity
{
    public required string CallId { get; set; }

    /// <summary>Gets or sets the sequence of the call's latest <c>started</c> entry.</summary>
    public long Sequence { get; set; }
}
