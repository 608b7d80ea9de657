namespace Gateway.Core.Audit;

/// <summary>An audit record at its place in the chain: its sequence number, the hash of the entry before it, and its own hash.</summary>
/// <param name="Sequence">Gap-free position, from 1.</param>
/// <param name="PreviousHash">The previous entry's <paramref name="Hash"/>, or <see cref="AuditChain.Genesis"/> for the first.</param>
/// <param name="Record">The audited event.</param>
/// <param name="Hash">SHA-256 (lower-case hex) of <see cref="AuditChain.CanonicalEntry"/>; as stored, so a verifier can compare.</param>
public sealed record AuditChainEntry(long Sequence, string? PreviousHash, AuditRecord Record, string? Hash);
