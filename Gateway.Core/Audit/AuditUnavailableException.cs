namespace Gateway.Core.Audit;

/// <summary>The audit trail could not commit a record; the action it describes must not happen (fail closed).</summary>
public sealed class AuditUnavailableException : Exception
{
    /// <summary>A tool call's record could not be committed, so the call was not forwarded.</summary>
    public AuditUnavailableException(Exception inner)
        : this("The audit trail is unavailable, so the call was not forwarded.", inner)
    {
    }

    /// <summary>A record could not be committed; <paramref name="message"/> says what did not happen.</summary>
    public AuditUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
