namespace Gateway.Core.Siem;

/// <summary>How far a SIEM sink has delivered the audit trail, who streams it, and how its last attempts went.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="Sequence">The last entry the receiver acknowledged; 0 before the first.</param>
/// <param name="LeaseOwner">The instance streaming it (see <c>GatewayInstance</c>), or <see langword="null"/>.</param>
/// <param name="LeaseUntil">When that instance's lease ends unless renewed.</param>
/// <param name="LastSuccessAt">When a batch was last delivered.</param>
/// <param name="LastError">The last delivery error, cleared by the next success.</param>
/// <param name="LastErrorAt">When <paramref name="LastError"/> happened.</param>
/// <param name="CheckpointSequence">The entry of the last signed checkpoint the receiver acknowledged; 0 before the first.</param>
public sealed record SiemCursor(string Sink, long Sequence, string? LeaseOwner, DateTimeOffset LeaseUntil, DateTimeOffset? LastSuccessAt, string? LastError, DateTimeOffset? LastErrorAt, long CheckpointSequence = 0);
