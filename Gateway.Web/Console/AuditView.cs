using System.Globalization;
using Gateway.Core.Audit;
using MudBlazor;

namespace Gateway.Web.Console;

/// <summary>How the console shows audit entries: the filter choices, colours, times and the export link.</summary>
public static class AuditView
{
    /// <summary>The decisions an entry can record, offered as a filter.</summary>
    public static readonly IReadOnlyList<string> Decisions = ["allow", "escalate", "block", "deny", "approve"];

    /// <summary>The outcomes an entry can record, offered as a filter.</summary>
    public static readonly IReadOnlyList<string> Outcomes = [AuditOutcomes.Ok, AuditOutcomes.ToolError, AuditOutcomes.Denied, AuditOutcomes.Error, AuditOutcomes.Timeout, AuditOutcomes.Cancelled, AuditOutcomes.Started, AuditOutcomes.Unknown, AuditOutcomes.Withheld];

    /// <summary>
    /// What the time column shows. Every entry carries the time its event started: a tool call's entry is written
    /// when the call ends, with the time it started (its duration is beside it), so the order of sequence numbers and the
    /// order of times can differ for calls that overlapped.
    /// </summary>
    public const string TimeHelp = "When the event started (UTC). A tool call is recorded when it ends, with the time it started; its duration is in the ms column. Entries are numbered in the order they were written, so a long call can have a later number than a shorter one that started after it.";

    public static Color OutcomeColor(string outcome) => outcome switch
    {
        AuditOutcomes.Ok => Color.Success,
        AuditOutcomes.Started => Color.Info,
        AuditOutcomes.Denied or AuditOutcomes.ToolError or AuditOutcomes.Withheld => Color.Warning,
        _ => Color.Error,
    };

    /// <summary>The table's time: to the second, UTC.</summary>
    public static string ShortTime(DateTimeOffset timestamp) => timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>How far back an evidence pack reaches when the filter sets no start.</summary>
    public static readonly TimeSpan EvidenceDefaultPeriod = TimeSpan.FromDays(90);

    /// <summary>
    /// The evidence pack for the applied time filter (only time: a pack covers every agent and server), the last
    /// <see cref="EvidenceDefaultPeriod"/> when none is set.
    /// </summary>
    public static string EvidenceUrl(AuditFilter filter, string framework, DateTimeOffset now)
    {
        var to = filter.To ?? now;
        var from = filter.From ?? to - EvidenceDefaultPeriod;
        return $"/console/audit/evidence?framework={framework}&from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";
    }

    /// <summary>The download of the applied time, agent and server filter; JSONL comes with checkpoints and manifest for <c>audit verify --file</c>.</summary>
    public static string ExportUrl(AuditFilter filter, string format)
    {
        var query = new List<string> { "format=" + format };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("from", filter.From?.ToString("O", CultureInfo.InvariantCulture));
        Add("to", filter.To?.ToString("O", CultureInfo.InvariantCulture));
        Add("agent", filter.Agent);
        Add("server", filter.Server);
        return "/console/audit/export?" + string.Join('&', query);
    }
}
