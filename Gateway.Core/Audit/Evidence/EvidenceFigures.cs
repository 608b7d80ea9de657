using System.Globalization;
using System.Text.Json;
using Gateway.Core.Agents;

namespace Gateway.Core.Audit.Evidence;

/// <summary>
/// The figures of an evidence pack, taken from the audit entries of the period as they stream past (the same entries
/// its export holds, so each figure can be recomputed from the export). Memory is bounded: tables keep at most
/// <see cref="EvidenceTable.MaxRows"/> rows, per-name counts at most <see cref="MaxNames"/> names.
/// </summary>
public sealed class EvidenceFigures
{
    /// <summary>The most distinct agents (or rules) counted one by one; the rest are counted together.</summary>
    public const int MaxNames = 1000;

    /// <summary>The most approvals waiting for their decision at once (a request without a decision in the period stays pending).</summary>
    public const int MaxPendingApprovals = 10_000;

    /// <summary>The name the agents beyond <see cref="MaxNames"/> are counted under.</summary>
    public const string Others = "(others)";

    private static readonly HashSet<string> AccessTypes = ["agent", "console_user", "policy", "tool_class", "tool_limit"];
    private static readonly HashSet<string> KeyTypes = ["agent_key", "server_credential"];
    private static readonly HashSet<string> PinKinds = ["tool_pinned", "tool_definition_changed", "tool_definition_suspicious", "tool_definitions_quarantined", "tool_rejected", "tool_pins_forgotten"];
    private readonly Dictionary<string, (DateTimeOffset At, string Agent, string? Server, string? Tool)> _pending = [];
    private readonly List<TimeSpan> _waits = [];

    /// <summary>Gets the entries read.</summary>
    public long Entries { get; private set; }

    /// <summary>Gets the first and last sequence numbers read.</summary>
    public (long First, long Last)? Range { get; private set; }

    /// <summary>Gets the completed tool calls (one per call), by decision.</summary>
    public SortedDictionary<string, long> CallsByDecision { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the completed tool calls, by outcome.</summary>
    public SortedDictionary<string, long> CallsByOutcome { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets per agent: calls, and of those refused (blocked or denied).</summary>
    public SortedDictionary<string, (long Calls, long Refused)> CallsByAgent { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the agents at the end of the period (when the pack was made), with their grants.</summary>
    public IReadOnlyList<AgentRecord> AgentsNow { get; private set; } = [];

    public EvidenceTable GrantChanges { get; } = new("Agent", "Change", "By", "Grants before", "Grants after");

    public EvidenceTable AccessChanges { get; } = new("What", "Change", "By");

    public EvidenceTable Approvals { get; } = new("Approval", "Agent", "Tool", "Decision", "By", "Wait");

    public long ApprovalsRequested { get; private set; }

    public SortedDictionary<string, long> ApprovalDecisions { get; } = new(StringComparer.Ordinal);

    public EvidenceTable Refusals { get; } = new("Agent", "Server", "Tool", "Decision", "Rule", "Reason");

    public SortedDictionary<string, long> RefusalsByRule { get; } = new(StringComparer.Ordinal);

    public EvidenceTable Keys { get; } = new("What", "Change", "By");

    public EvidenceTable Upstreams { get; } = new("Event", "Server", "Tool", "By", "Detail");

    public EvidenceTable Findings { get; } = new("Agent", "Server", "Tool", "Outcome", "Findings");

    public EvidenceTable FailedSignIns { get; } = new("User", "Reason");

    public long SignInsOk { get; private set; }

    /// <summary>Gets the median and longest wait of the approvals decided in the period whose request is in it too.</summary>
    public (TimeSpan Median, TimeSpan Longest)? Wait => _waits.Count == 0 ? null : (_waits.Order().ElementAt(_waits.Count / 2), _waits.Max());

    /// <summary>Sets the agents as they are when the pack is made.</summary>
    public void SetAgents(IEnumerable<AgentRecord> agents) => AgentsNow = [.. agents.OrderBy(a => a.Name, StringComparer.Ordinal)];

    /// <summary>Counts one entry (in sequence order).</summary>
    public void Add(AuditChainEntry entry)
    {
        var r = entry.Record;
        Entries++;
        Range = (Range?.First ?? entry.Sequence, entry.Sequence);
        switch (r.Kind)
        {
            case AuditKinds.ToolCall:
                AddCall(entry);
                break;
            case AuditKinds.AdminChange:
                AddChange(entry);
                break;
            case AuditKinds.ConsoleLogin when r.Outcome == AuditOutcomes.Ok:
                SignInsOk++;
                break;
            case AuditKinds.ConsoleLogin:
                FailedSignIns.Add(entry.Sequence, r.Timestamp, r.Actor, r.Error);
                break;
            case "approval_requested":
                ApprovalsRequested++;
                if (_pending.Count < MaxPendingApprovals)
                {
                    _pending[ApprovalId(r)] = (r.Timestamp, r.Actor, r.Server, r.Tool);
                }

                break;
            case "approval_approved" or "approval_denied" or "approval_expired":
                AddDecision(entry);
                break;
            case var kind when PinKinds.Contains(kind):
                Upstreams.Add(entry.Sequence, r.Timestamp, kind, r.Server, r.Tool, r.Actor, r.Error);
                break;
        }

        // A forwarded call's started entry carries what was found in its arguments; its completion carries that too.
        if (r.Findings is not null && r.Kind != AuditKinds.ToolCallStarted)
        {
            Findings.Add(entry.Sequence, r.Timestamp, r.Actor, r.Server, r.Tool, r.Outcome, FindingKinds(r.Findings));
        }
    }

    private static string ApprovalId(AuditRecord r) => r.Error is { } e ? e.Split(':', 2)[0] : string.Empty;

    private static string FindingKinds(string findings)
    {
        try
        {
            using var doc = JsonDocument.Parse(findings);
            return doc.RootElement.ValueKind == JsonValueKind.Array
                ? string.Join(", ", doc.RootElement.EnumerateArray().Select(f => f.TryGetProperty("kind", out var k) ? k.ToString() : "?").Distinct().Take(20))
                : findings;
        }
        catch (JsonException)
        {
            return findings;
        }
    }

    private static string? Grants(JsonElement root, string side) =>
        root.TryGetProperty(side, out var state) && state.ValueKind == JsonValueKind.Object && state.TryGetProperty("grants", out var grants) && grants.ValueKind == JsonValueKind.Array
            ? string.Join(", ", grants.EnumerateArray().Select(g => g.ToString()))
            : null;

    private void AddCall(AuditChainEntry entry)
    {
        var r = entry.Record;
        Count(CallsByDecision, r.Decision);
        Count(CallsByOutcome, r.Outcome);
        var refused = r.Decision is "block" or "deny";
        var agent = CallsByAgent.ContainsKey(r.Actor) || CallsByAgent.Count < MaxNames ? r.Actor : Others;
        var (calls, refusals) = CallsByAgent.GetValueOrDefault(agent);
        CallsByAgent[agent] = (calls + 1, refusals + (refused ? 1 : 0));
        if (refused)
        {
            Refusals.Add(entry.Sequence, r.Timestamp, r.Actor, r.Server, r.Tool, r.Decision, r.Rule, r.Error);
            Count(RefusalsByRule, r.Rule ?? (r.Decision == "deny" ? "(not granted, unknown or invalid)" : "(default for the class)"));
        }
    }

    private void AddChange(AuditChainEntry entry)
    {
        var r = entry.Record;
        var what = r.Tool ?? string.Empty;
        var type = what.Split('/', 2)[0];
        if (KeyTypes.Contains(type))
        {
            Keys.Add(entry.Sequence, r.Timestamp, what, r.Decision, r.Actor);
        }
        else if (type == "server")
        {
            Upstreams.Add(entry.Sequence, r.Timestamp, "server_" + r.Decision, r.Server, null, r.Actor, null);
        }
        else if (AccessTypes.Contains(type))
        {
            AccessChanges.Add(entry.Sequence, r.Timestamp, what, r.Decision, r.Actor);
        }

        if (type == "agent" && r.ArgumentsRedacted is { } states)
        {
            try
            {
                using var doc = JsonDocument.Parse(states);
                var (before, after) = (Grants(doc.RootElement, "before"), Grants(doc.RootElement, "after"));
                if (before != after)
                {
                    GrantChanges.Add(entry.Sequence, r.Timestamp, what["agent/".Length..], r.Decision, r.Actor, before, after);
                }
            }
            catch (JsonException)
            {
                // Not the recorder's shape: the change is still listed among the access changes.
            }
        }
    }

    private void AddDecision(AuditChainEntry entry)
    {
        var r = entry.Record;
        var decision = r.Kind["approval_".Length..];
        Count(ApprovalDecisions, decision);
        var id = ApprovalId(r);
        string wait;
        string agent;
        if (_pending.Remove(id, out var request))
        {
            var waited = r.Timestamp - request.At;
            _waits.Add(waited);
            wait = string.Create(CultureInfo.InvariantCulture, $"{waited.TotalSeconds:F1} s");
            agent = request.Agent;
        }
        else
        {
            wait = "requested before the period";
            agent = string.Empty;
        }

        Approvals.Add(entry.Sequence, r.Timestamp, id, agent, $"{r.Server}/{r.Tool}", decision, r.Actor, wait);
    }

    private void Count(SortedDictionary<string, long> counts, string key)
    {
        key = counts.ContainsKey(key) || counts.Count < MaxNames ? key : Others;
        counts[key] = counts.GetValueOrDefault(key) + 1;
    }
}
