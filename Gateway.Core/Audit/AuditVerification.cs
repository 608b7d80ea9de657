namespace Gateway.Core.Audit;

/// <summary>The result of checking a chain.</summary>
/// <param name="Intact">Whether every entry and checkpoint checked out.</param>
/// <param name="EntriesChecked">How many entries were read.</param>
/// <param name="LastSequence">The last entry's sequence number, when there was one.</param>
/// <param name="CheckpointsChecked">How many checkpoints matched their entry.</param>
/// <param name="FirstBadSequence">The sequence number of the first entry that is wrong or missing.</param>
/// <param name="Problem">What is wrong, for a human.</param>
public sealed record AuditVerification(bool Intact, long EntriesChecked, long? LastSequence, int CheckpointsChecked, long? FirstBadSequence, string? Problem);
