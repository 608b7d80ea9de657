using System.Globalization;
using Gateway.Core.Audit;

namespace Gateway.Web.Console;

/// <summary>The audit page's filter fields as typed (text), and the filter they make once applied.</summary>
public sealed class AuditFilterForm
{
    /// <summary>Gets or sets the earliest time, UTC, as the date-time field gives it.</summary>
    public string? From { get; set; }

    /// <summary>Gets or sets the latest time (exclusive), UTC.</summary>
    public string? To { get; set; }

    public string? Agent { get; set; }

    public string? Server { get; set; }

    public string? Tool { get; set; }

    public string? Decision { get; set; }

    public string? Outcome { get; set; }

    public string? Text { get; set; }

    public void Clear() => From = To = Agent = Server = Tool = Decision = Outcome = Text = null;

    /// <summary>Makes the filter, or says why the fields do not make one.</summary>
    public bool TryBuild(out AuditFilter filter, out string? error)
    {
        filter = new AuditFilter();
        if (!TryTime(From, out var from) || !TryTime(To, out var to))
        {
            error = "From and To must be dates and times (UTC).";
            return false;
        }

        filter = new AuditFilter { From = from, To = to, Agent = Blank(Agent), Server = Blank(Server), Tool = Blank(Tool), Decision = Blank(Decision), Outcome = Blank(Outcome), Text = Blank(Text) };
        error = null;
        return true;
    }

    // An emptied field is no criterion (a cleared text box gives "", not null).
    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool TryTime(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }
}
