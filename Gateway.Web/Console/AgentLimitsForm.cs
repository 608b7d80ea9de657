using System.Globalization;
using Gateway.Core.Limits;

namespace Gateway.Web.Console;

/// <summary>An agent's three limits as typed: empty is the gateway default, 0 unlimited.</summary>
public sealed class AgentLimitsForm
{
    public string? RequestsPerMinute { get; set; }

    public string? MaxConcurrent { get; set; }

    public string? DailyQuota { get; set; }

    public void Load(AgentLimits limits) =>
        (RequestsPerMinute, MaxConcurrent, DailyQuota) = (Text(limits.RequestsPerMinute), Text(limits.MaxConcurrent), Text(limits.DailyQuota));

    /// <summary>
    /// The limits typed, or the fields that are not whole numbers (keyed as the API's fields, where the range errors
    /// of the operation land too).
    /// </summary>
    public (AgentLimits? Limits, Dictionary<string, string[]> Errors) Parse()
    {
        var errors = new Dictionary<string, string[]>();
        var limits = new AgentLimits(Number(RequestsPerMinute, "limits.requestsPerMinute", errors), Number(MaxConcurrent, "limits.maxConcurrent", errors), Number(DailyQuota, "limits.dailyQuota", errors));
        return (errors.Count == 0 ? limits : null, errors);
    }

    private static string? Text(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static int? Number(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors[field] = ["Enter a whole number, 0 for unlimited, or leave it empty for the default."];
        return null;
    }
}
