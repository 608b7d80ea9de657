using Gateway.Core.Limits;

namespace Gateway.Web.Console;

/// <summary>A per-tool limit as typed: a name, <c>server/tool</c>, and three limits (empty or 0 is unlimited).</summary>
public sealed class ToolLimitForm
{
    private const string Prefix = "limits.";

    public string? Name { get; set; }

    public string? Match { get; set; }

    /// <summary>Gets the three numbers, read as an agent's limits are (whole numbers or empty).</summary>
    public AgentLimitsForm Limits { get; } = new();

    public void Load(ToolLimitRuleDocument rule)
    {
        (Name, Match) = (rule.Name, rule.Match);
        Limits.Load(new AgentLimits(rule.RequestsPerMinute, rule.MaxConcurrent, rule.DailyQuota));
    }

    /// <summary>The document to save, or the fields that are not whole numbers (keyed as the document's fields, where the operation's errors land too).</summary>
    public (ToolLimitRuleDocument? Document, Dictionary<string, string[]> Errors) Parse()
    {
        var (limits, errors) = Limits.Parse();
        var byField = errors.ToDictionary(e => e.Key.StartsWith(Prefix, StringComparison.Ordinal) ? e.Key[Prefix.Length..] : e.Key, e => e.Value);
        return limits is null
            ? (null, byField)
            : (new ToolLimitRuleDocument(Name?.Trim(), Match?.Trim(), limits.RequestsPerMinute, limits.MaxConcurrent, limits.DailyQuota), byField);
    }
}
