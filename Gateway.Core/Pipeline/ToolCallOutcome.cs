namespace Gateway.Core.Pipeline;

/// <summary>What became of a tool call: a value, never an exception, for decisions the gateway made itself.</summary>
/// <typeparam name="TResult">The protocol result type.</typeparam>
public readonly record struct ToolCallOutcome<TResult>(TResult? Result, string? DenialMessage)
{
    /// <summary>Gets a value indicating whether the gateway refused the call.</summary>
    public bool IsDenied => DenialMessage is not null;
}
