using Gateway.Core.Grants;

namespace Gateway.Core.Limits;

/// <summary>
/// Limits on the calls of one agent to the tools matching <c>server/tool</c> (globs with <c>*</c> and <c>?</c>), on top
/// of the agent's own limits: an expensive or fragile tool gets fewer calls than the agent's whole allowance.
/// </summary>
/// <param name="Name">The rule's name (its configuration key), named in refusals.</param>
/// <param name="Server">The server part of the pattern.</param>
/// <param name="Tool">The tool part of the pattern (the tool's original name).</param>
/// <param name="Limits">The limits per agent on the matching tools; 0 is unlimited.</param>
public sealed record ToolLimitRule(string Name, Glob Server, Glob Tool, EffectiveLimits Limits)
{
    /// <summary>The most rules, configured and stored together: each is a counter per agent, looked at on every call.</summary>
    public const int MaxRules = 200;

    /// <summary>The longest glob on either side of the slash.</summary>
    public const int MaxGlobLength = 256;

    /// <summary>The longest rule name (it is a configuration key, an API path segment and part of a counter's key).</summary>
    public const int MaxNameLength = 64;

    /// <summary>Gets the pattern as configured.</summary>
    public string Pattern => $"{Server}/{Tool}";

    /// <summary>Gets a value indicating whether the rule comes from configuration (read-only through the API and the console).</summary>
    public bool ManagedByConfiguration { get; init; }

    /// <summary>Whether the rule applies to a call of <paramref name="tool"/> on <paramref name="server"/>.</summary>
    public bool Matches(string server, string tool) => Server.IsMatch(server) && Tool.IsMatch(tool);

    /// <summary>Reads <c>server/tool</c>: two non-empty globs of at most <see cref="MaxGlobLength"/> characters, no control characters.</summary>
    public static bool TryParseMatch(string? match, out Glob server, out Glob tool)
    {
        var parts = (match ?? string.Empty).Split('/');
        var valid = parts.Length == 2 && parts.All(p => p.Length is > 0 and <= MaxGlobLength && !p.Any(char.IsControl));
        (server, tool) = valid ? (new Glob(parts[0]), new Glob(parts[1])) : (default, default);
        return valid;
    }

    /// <summary>Reads the rules of <see cref="LimitOptions.Tools"/>; every problem is added to <paramref name="errors"/>.</summary>
    public static IReadOnlyList<ToolLimitRule> From(LimitOptions options, ICollection<string> errors)
    {
        var rules = new List<ToolLimitRule>();
        if (options.Tools.Count > MaxRules)
        {
            errors.Add($"{LimitOptions.Section}:Tools has {options.Tools.Count} rules; at most {MaxRules}.");
            return rules;
        }

        foreach (var (name, rule) in options.Tools.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var where = $"{LimitOptions.Section}:Tools:{name}";
            if (name.Length > MaxNameLength)
            {
                errors.Add($"{where}: a rule's name has at most {MaxNameLength} characters.");
                continue;
            }

            if (!TryParseMatch(rule.Match, out var server, out var tool))
            {
                errors.Add($"{where}:Match must be 'server/tool' (globs with * and ?), e.g. 'github/create_*' (was '{rule.Match}').");
                continue;
            }

            foreach (var (key, value) in new[] { ("RequestsPerMinute", rule.RequestsPerMinute), ("MaxConcurrent", rule.MaxConcurrent), ("DailyQuota", rule.DailyQuota) })
            {
                if (!AgentLimitsValidator.InRange(value))
                {
                    errors.Add($"{where}:{key} must be 0 (unlimited) or a whole number up to {AgentLimitsValidator.Max} (was {value}).");
                }
            }

            rules.Add(new ToolLimitRule(name, server, tool, new EffectiveLimits(rule.RequestsPerMinute, rule.MaxConcurrent, rule.DailyQuota)) { ManagedByConfiguration = true });
        }

        return rules;
    }
}

/// <summary>One rule of <c>Gateway:Limits:Tools</c> as configured.</summary>
public sealed class ToolLimitOptions
{
    /// <summary>Gets or sets the tools it applies to: <c>server/tool</c>, globs with <c>*</c> and <c>?</c>.</summary>
    public string? Match { get; set; }

    /// <summary>Gets or sets the calls per UTC minute one agent may start on the matching tools; 0 is unlimited.</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>Gets or sets the calls one agent may have in flight on the matching tools; 0 is unlimited.</summary>
    public int MaxConcurrent { get; set; }

    /// <summary>Gets or sets the calls per UTC day one agent may start on the matching tools; 0 is unlimited.</summary>
    public int DailyQuota { get; set; }
}
