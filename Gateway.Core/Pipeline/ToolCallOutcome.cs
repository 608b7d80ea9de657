namespace Gateway.Core.Pipeline;

/// <summary>Why the gateway did not forward a call.</summary>
public enum Refusal
{
    /// <summary>The call was forwarded.</summary>
    None,

    /// <summary>No such tool, or not granted: a protocol error that reveals nothing.</summary>
    UnknownTool,

    /// <summary>The arguments cannot be read reliably: a protocol error.</summary>
    InvalidArguments,

    /// <summary>A policy blocked it, or an escalation was not approved: a tool error the agent can read.</summary>
    Policy,

    /// <summary>The call's audit entry could not be committed, so it was not forwarded: a tool error the agent can read.</summary>
    AuditUnavailable,

    /// <summary>A limit of the agent's (rate, concurrency, daily quota) was reached: a protocol error saying when to retry.</summary>
    Limited,

    /// <summary>The upstream answered, but the result guard withheld the result (a secret, on a server that blocks them): a tool error naming the finding kind.</summary>
    ResultWithheld,

    /// <summary>A granted tool's upstream is down, so the call was not forwarded: a tool error naming the server.</summary>
    Unavailable,
}

/// <summary>What became of a tool call: a value, never an exception, for decisions the gateway made itself.</summary>
/// <typeparam name="TResult">The protocol result type.</typeparam>
public readonly record struct ToolCallOutcome<TResult>(TResult? Result, Refusal Refusal, string? Message)
{
    /// <summary>Gets a value indicating whether the gateway refused the call.</summary>
    public bool IsRefused => Refusal != Refusal.None;

    /// <summary>Gets how long to wait before retrying, for <see cref="Refusal.Limited"/>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Gets the limit that refused the call, for <see cref="Refusal.Limited"/>.</summary>
    public Limits.LimitKind Limit { get; init; }

    /// <summary>Gets the upstream's input-required result (opaque to Core) when it asked the agent for input instead of answering.</summary>
    public object? InputRequired { get; init; }

    /// <summary>Gets how the call goes on when the agent retries with the input, when <see cref="InputRequired"/> is set.</summary>
    public CallContinuation? Continuation { get; init; }

    /// <summary>Gets the task the upstream started instead of answering (the tasks extension), with the call it belongs to.</summary>
    public CreatedTask? Task { get; init; }
}
