using Gateway.Web.Admin;

namespace Gateway.Web.Console;

/// <summary>A line telling the console user how their change ended.</summary>
/// <param name="Ok">Whether the change was made.</param>
/// <param name="Message">What to show.</param>
public sealed record ConsoleNotice(bool Ok, string Message)
{
    /// <summary>The notice for a result: <paramref name="done"/> when done, else the operation's own reason.</summary>
    public static ConsoleNotice Of(AdminResult result, string done) => new(result.IsDone, result.IsDone ? done : Refusal(result.Outcome, result.Message));

    /// <inheritdoc cref="Of(AdminResult, string)"/>
    public static ConsoleNotice Of<T>(AdminResult<T> result, string done) => new(result.IsDone, result.IsDone ? done : Refusal(result.Outcome, result.Message));

    /// <summary>
    /// The notice for an invalid change's errors that none of <paramref name="shown"/> (the fields the form shows errors
    /// under) holds, or null when each has its field: without it, an error of a field the form has no input for (or shows
    /// elsewhere) is dropped, and the click seems to do nothing.
    /// </summary>
    public static ConsoleNotice? Unshown(IReadOnlyDictionary<string, string[]> errors, IReadOnlySet<string> shown)
    {
        var messages = errors.Where(e => !shown.Contains(e.Key)).SelectMany(e => e.Value).ToList();
        return messages.Count == 0 ? null : new(false, string.Join(" ", messages));
    }

    private static string Refusal(AdminOutcome outcome, string? message) => message ?? outcome switch
    {
        AdminOutcome.Forbidden => "Your role may not do this.",
        AdminOutcome.Managed => "This is defined in configuration; change it there.",
        AdminOutcome.NotFound => "It was removed meanwhile.",
        _ => "Nothing was changed.",
    };
}
