namespace Gateway.Web.Admin;

/// <summary>
/// The end of an admin operation without a value: done, or why not. Refusals convert to <see cref="AdminResult{T}"/>
/// so an operation returning a value can still <c>return AdminResult.NotFound(...)</c>.
/// </summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Message">What to tell a person when it was refused (a problem's detail, a snackbar).</param>
/// <param name="Errors">The problems by field (JSON field names) when <see cref="AdminOutcome.Invalid"/>; empty otherwise.</param>
public sealed record AdminResult(AdminOutcome Outcome, string? Message, IReadOnlyDictionary<string, string[]> Errors)
{
    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();

    /// <summary>Gets a value indicating whether the operation made its change.</summary>
    public bool IsDone => Outcome == AdminOutcome.Done;

    public static AdminResult Done() => new(AdminOutcome.Done, null, NoErrors);

    public static AdminResult<T> Done<T>(T value) => new(AdminOutcome.Done, value, null, NoErrors);

    public static AdminResult NotFound(string message) => new(AdminOutcome.NotFound, message, NoErrors);

    public static AdminResult Managed(string message) => new(AdminOutcome.Managed, message, NoErrors);

    public static AdminResult Forbidden(string message) => new(AdminOutcome.Forbidden, message, NoErrors);

    public static AdminResult Conflict(string message) => new(AdminOutcome.Conflict, message, NoErrors);

    public static AdminResult Invalid(IReadOnlyDictionary<string, string[]> errors, string message = "The input is invalid; nothing was changed.") =>
        new(AdminOutcome.Invalid, message, errors);
}
