using Gateway.Core.Audit;
using Gateway.Web.Audit;

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
        if (!AuditQueryText.TryTime(From, out var from) || !AuditQueryText.TryTime(To, out var to))
        {
            error = "From and To must be dates and times (UTC).";
            return false;
        }

        filter = new AuditFilter { From = from, To = to, Agent = AuditQueryText.Criterion(Agent), Server = AuditQueryText.Criterion(Server), Tool = AuditQueryText.Criterion(Tool), Decision = AuditQueryText.Criterion(Decision), Outcome = AuditQueryText.Criterion(Outcome), Text = AuditQueryText.Criterion(Text) };
        error = null;
        return true;
    }
}
