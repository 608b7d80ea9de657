using System.Globalization;

namespace Gateway.Web.Audit;

/// <summary>Reads the text of audit query parameters (console links and API calls alike).</summary>
internal static class AuditQueryText
{
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
