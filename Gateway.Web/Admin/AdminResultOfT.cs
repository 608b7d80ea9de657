namespace Gateway.Web.Admin;

/// <summary>The end of an admin operation that yields a value when done (the created agent, the saved rule).</summary>
/// <typeparam name="T">What the operation yields when done.</typeparam>
/// <param name="Outcome">How it ended.</param>
/// <param name="Value">The value; set only when <see cref="AdminOutcome.Done"/>.</param>
/// <param name="Message">What to tell a person when it was refused.</param>
/// <param name="Errors">The problems by field when <see cref="AdminOutcome.Invalid"/>; empty otherwise.</param>
public sealed record AdminResult<T>(AdminOutcome Outcome, T? Value, string? Message, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>Gets a value indicating whether the operation made its change.</summary>
    public bool IsDone => Outcome == AdminOutcome.Done;

    /// <summary>A refusal (any outcome but done) as the result of an operation that would have yielded a value.</summary>
    public static implicit operator AdminResult<T>(AdminResult refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        if (refusal.IsDone)
        {
            throw new InvalidOperationException("A done result needs its value: use AdminResult.Done(value).");
        }

        return new AdminResult<T>(refusal.Outcome, default, refusal.Message, refusal.Errors);
    }

    /// <summary>The same end without the value.</summary>
    public AdminResult WithoutValue() => new(Outcome, Message, Errors);
}
