using System.Globalization;

namespace Gateway.Web.Audit;

/// <summary>Reads the text of audit query parameters (console links and API calls alike).</summary>
internal static class AuditQueryText
{
    /// <summary>A filter value as a criterion: an empty or blank one is none (a cleared text box gives "", not null).</summary>
    public static string? Criterion(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>An ISO 8601 time (UTC when no offset is given), or nothing; false for anything else.</summary>
    public static bool TryTime(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var ok = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed);
        value = ok ? parsed : null;
        return ok;
    }
}
