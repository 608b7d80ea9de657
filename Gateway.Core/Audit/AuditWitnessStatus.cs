namespace Gateway.Core.Audit;

/// <summary>How one witness is doing, for the console: the last checkpoint it took and the last failure.</summary>
/// <param name="Name">The witness.</param>
/// <param name="LastSequence">The entry of the last checkpoint it took.</param>
/// <param name="LastPushedAt">When it took it.</param>
/// <param name="LastError">The last failure (after every attempt), if any since.</param>
/// <param name="LastErrorAt">When that was.</param>
public sealed record AuditWitnessStatus(string Name, long? LastSequence, DateTimeOffset? LastPushedAt, string? LastError, DateTimeOffset? LastErrorAt)
{
    /// <summary>Gets whether the last thing that happened was a failure.</summary>
    public bool Failing => LastErrorAt is { } failed && (LastPushedAt is not { } pushed || failed > pushed);
}
