namespace Gateway.Core.Audit;

/// <summary>
/// Bounds text from outside that goes into an audit entry's error (an upstream's error message, a task's failure): an
/// upstream writes it, and it may be as long as a result may be. The cut says how much was left out.
/// </summary>
public static class AuditText
{
    /// <summary>The most characters of an error kept in an entry (as of arguments, <see cref="ArgumentRedactor"/>).</summary>
    public const int MaxError = 4096;

    /// <summary>The text, or its first <see cref="MaxError"/> characters and how many more there were.</summary>
    public static string? Cut(string? text)
    {
        if (text is null || text.Length <= MaxError)
        {
            return text;
        }

        // Not between the two halves of a surrogate pair: the entry's text is hashed as UTF-8.
        var kept = char.IsHighSurrogate(text[MaxError - 1]) ? MaxError - 1 : MaxError;
        return string.Concat(text.AsSpan(0, kept), $"…[{text.Length - kept} more chars]");
    }
}
