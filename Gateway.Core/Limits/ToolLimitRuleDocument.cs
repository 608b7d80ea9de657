using System.Text.RegularExpressions;

namespace Gateway.Core.Limits;

/// <summary>
/// A per-tool rule as the API and the console read and write it. Each limit is 0 (unlimited, also when left out) or
/// a whole number up to <see cref="AgentLimitsValidator.Max"/>.
/// </summary>
/// <param name="Name">The rule's name: letters, digits, <c>.</c>, <c>_</c> and <c>-</c>, at most 64.</param>
/// <param name="Match">The tools: <c>server/tool</c>, globs with <c>*</c> and <c>?</c> (the tool's original name).</param>
/// <param name="RequestsPerMinute">Calls per UTC minute one agent may start on the matching tools.</param>
/// <param name="MaxConcurrent">Calls one agent may have in flight on the matching tools (per instance).</param>
/// <param name="DailyQuota">Calls per UTC day one agent may start on the matching tools.</param>
/// <param name="ManagedByConfiguration">Whether configuration defines the rule (then it is read-only here).</param>
public sealed partial record ToolLimitRuleDocument(string? Name, string? Match, int? RequestsPerMinute = null, int? MaxConcurrent = null, int? DailyQuota = null, bool ManagedByConfiguration = false)
{
    /// <summary>The document of a rule.</summary>
    public static ToolLimitRuleDocument From(ToolLimitRule rule) =>
        new(rule.Name, rule.Pattern, rule.Limits.RequestsPerMinute, rule.Limits.MaxConcurrent, rule.Limits.DailyQuota, rule.ManagedByConfiguration);

    /// <summary>The rule, or <see langword="null"/> with every problem in <paramref name="errors"/> by field (camelCase, as in the document).</summary>
    public ToolLimitRule? ToRule(IDictionary<string, string[]> errors)
    {
        if (Name is null || !NamePattern().IsMatch(Name))
        {
            errors["name"] = [$"A name of 1 to {ToolLimitRule.MaxNameLength} letters, digits, '.', '_' or '-'."];
        }

        if (!ToolLimitRule.TryParseMatch(Match, out var server, out var tool))
        {
            errors["match"] = [$"'server/tool': two globs (* and ?) of 1 to {ToolLimitRule.MaxGlobLength} characters, e.g. 'github/create_*'."];
        }

        foreach (var (field, value) in new[] { ("requestsPerMinute", RequestsPerMinute), ("maxConcurrent", MaxConcurrent), ("dailyQuota", DailyQuota) })
        {
            if (!AgentLimitsValidator.InRange(value))
            {
                errors[field] = [$"0 (unlimited) or a whole number up to {AgentLimitsValidator.Max:N0}."];
            }
        }

        return errors.Count > 0
            ? null
            : new ToolLimitRule(Name!, server, tool, new EffectiveLimits(RequestsPerMinute ?? 0, MaxConcurrent ?? 0, DailyQuota ?? 0));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}
