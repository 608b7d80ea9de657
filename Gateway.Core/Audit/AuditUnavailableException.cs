namespace Gateway.Core.Audit;

/// <summary>The audit trail could not commit a record; the action it describes must not happen (fail closed).</summary>
public sealed class AuditUnavailableException(Exception inner)
    : Exception("The audit trail is unavailable, so the call was not forwarded.", inner);
