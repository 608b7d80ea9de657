using Gateway.Core.Grants;

namespace Gateway.Core.Policy;

/// <summary>What an agent gets when it calls a tool, before any arguments are known.</summary>
public enum AccessVerdict
{
    /// <summary>No live grant covers the tool: the agent does not see it, and a call is answered as for an unknown tool.</summary>
    Hidden,

    /// <summary>Forwarded.</summary>
    Allow,

    /// <summary>Held for a human's approval.</summary>
    Escalate,

    /// <summary>Refused.</summary>
    Block,

    /// <summary>A rule whose conditions read the call's arguments (or the session's history) can change the effect.</summary>
    DependsOnArguments,
}

/// <summary>
/// The effective access of one agent to one tool, and why.
/// </summary>
/// <param name="Verdict">The effect.</param>
/// <param name="Grant">The grant that lets the agent see the tool (its text), or null when hidden.</param>
/// <param name="Rule">The rule that decides when the call's own facts do not matter, or null when the default for the class does.</param>
/// <param name="Baseline">The effect when no argument-dependent rule matches (for <see cref="AccessVerdict.DependsOnArguments"/>; else the verdict's effect).</param>
/// <param name="Why">One sentence for a person.</param>
/// <param name="Conditional">The rules whose conditions decide per call and that can change the effect, each as "name (effect: conditions)".</param>
public sealed record AccessDecision(AccessVerdict Verdict, string? Grant, string? Rule, PolicyEffect? Baseline, string Why, IReadOnlyList<string> Conditional);

/// <summary>
/// Answers "who can call what" over an agent's grants, a tool of the catalog and the policy rules, with the same grant
/// matcher and engine as a call (<see cref="GrantSet"/>, <see cref="PolicyEngine"/>). Pure: no I/O, the clock is given.
/// </summary>
/// <remarks>
/// Arguments are not known here, so each rule is split: criteria that a call cannot change (agent, server, tool, class,
/// the server's labels) are decided now; conditions on arguments and on the session's history
/// (<see cref="PolicyFacts.SessionLabels"/>, <see cref="PolicyFacts.SessionFindings"/>) are not. Rules without such
/// conditions decide the baseline with the real engine; a rule with them that matches everything else and whose effect
/// would change the baseline makes the answer "depends on arguments", naming it. Nothing is guessed about arguments.
/// </remarks>
public sealed class EffectiveAccess
{
    private readonly PolicyEngine _fixed;
    private readonly PolicyEngine _relaxed;
    private readonly Dictionary<string, PolicyRule> _conditional = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="EffectiveAccess"/> class for the rules and defaults of <paramref name="engine"/>.</summary>
    public EffectiveAccess(PolicyEngine engine)
    {
        var fixedRules = new List<PolicyRule>();
        var relaxed = new List<PolicyRule>();
        // A secrets-only rule does not change who may call what.
        foreach (var rule in engine.Rules.Where(r => r.Effect is not null))
        {
            if (rule.Conditions.Any(IsPerCall))
            {
                _conditional[rule.Name] = rule;
                relaxed.Add(rule with { Conditions = [.. rule.Conditions.Where(c => !IsPerCall(c))] });
            }
            else
            {
                fixedRules.Add(rule);
            }
        }

        _fixed = new PolicyEngine(fixedRules, engine.Defaults);
        _relaxed = new PolicyEngine(relaxed, engine.Defaults);
    }

    /// <summary>Decides what <paramref name="agent"/> (name, tags) with <paramref name="grants"/> gets calling the tool <paramref name="tool"/> (original name) of class <paramref name="accessClass"/> on <paramref name="server"/> (labelled <paramref name="serverLabels"/>) at <paramref name="now"/>.</summary>
    public AccessDecision Decide(string agent, IReadOnlyList<string> tags, GrantSet grants, string server, string tool, AccessClass accessClass, IReadOnlyList<string> serverLabels, DateTimeOffset now)
    {
        var grant = grants.Grants.FirstOrDefault(g => g.Allows(server, tool, accessClass, now));
        if (grant is null)
        {
            return new AccessDecision(AccessVerdict.Hidden, null, null, null, WhyHidden(grants, server, tool, accessClass, now), []);
        }

        var input = new PolicyInput(agent, tags, server, tool, accessClass, null, serverLabels);
        var baseline = _fixed.Evaluate(input);
        var changing = _relaxed.Matching(input)
            .Where(r => Changes(r.Effect!.Value, baseline))
            .Select(r => _conditional[r.Name])
            .OrderByDescending(r => r.Effect)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
        var granted = $"granted by '{grant}'";
        var decided = baseline.Rule is null ? baseline.Reason : $"rule '{baseline.Rule}': {baseline.Reason}";
        if (changing.Count == 0)
        {
            return new AccessDecision(Verdict(baseline.Effect), grant.ToString(), baseline.Rule, baseline.Effect, $"{granted}; {baseline.Effect.Name()} by {decided}", []);
        }

        var conditional = changing.Select(Describe).ToList();
        var why = $"{granted}; depends on arguments: {string.Join("; ", conditional)}; otherwise {baseline.Effect.Name()} by {decided}";
        return new AccessDecision(AccessVerdict.DependsOnArguments, grant.ToString(), baseline.Rule, baseline.Effect, why, conditional);
    }

    /// <summary>The lower-case name of a verdict, as the console shows it.</summary>
    public static string Name(AccessVerdict verdict) => verdict switch
    {
        AccessVerdict.Hidden => "hidden",
        AccessVerdict.Allow => "allow",
        AccessVerdict.Escalate => "escalate",
        AccessVerdict.Block => "block",
        _ => "depends on arguments",
    };

    // Whether a matching conditional rule would decide differently. Any rule beats the default (so one of another effect
    // changes it); against a rule, only a stricter effect wins (block beats escalate beats allow).
    private static bool Changes(PolicyEffect effect, PolicyDecision baseline) =>
        baseline.Rule is null ? effect != baseline.Effect : effect > baseline.Effect;

    private static AccessVerdict Verdict(PolicyEffect effect) => effect switch
    {
        PolicyEffect.Allow => AccessVerdict.Allow,
        PolicyEffect.Escalate => AccessVerdict.Escalate,
        _ => AccessVerdict.Block,
    };

    // The server's labels are known before the call; everything else a condition reads comes with the call or the session.
    private static bool IsPerCall(ArgumentCondition condition) => condition.Path != PolicyFacts.ServerLabels;

    private static string Describe(PolicyRule rule) =>
        $"{rule.Effect!.Value.Name()} by rule '{rule.Name}' when {string.Join(" and ", rule.Conditions.Where(IsPerCall).Select(DescribeCondition))}";

    private static string DescribeCondition(ArgumentCondition c) =>
        c.Value.ValueKind == System.Text.Json.JsonValueKind.Undefined ? $"{c.Path} {c.Operator.Name()}" : $"{c.Path} {c.Operator.Name()} {c.Value.GetRawText()}";

    private static string WhyHidden(GrantSet grants, string server, string tool, AccessClass accessClass, DateTimeOffset now)
    {
        var naming = grants.Grants.Where(g => g.Server.IsMatch(server) && g.Tool.IsMatch(tool)).ToList();
        if (naming.Count == 0)
        {
            return "not granted: no grant names this tool";
        }

        if (naming.FirstOrDefault(g => g.IsLive(now) && g.MaxClass < accessClass) is { } low)
        {
            return $"not granted: '{low}' reaches only {low.MaxClass.Name()} tools and this one is {accessClass.Name()}";
        }

        return $"not granted: '{naming[0]}' has expired";
    }
}
