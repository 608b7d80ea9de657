using System.Collections.Frozen;
using System.Text.Json;
using Gateway.Core.Grants;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Policy;

/// <summary>
/// What the engine decides on: who calls which tool of which class, with which arguments; and the labels of the server
/// called and what the calling session received before (see <see cref="PolicyFacts"/>).
/// </summary>
public readonly record struct PolicyInput(
    string Agent,
    IReadOnlyList<string> AgentTags,
    string Server,
    string Tool,
    AccessClass Class,
    IDictionary<string, JsonElement>? Arguments,
    IReadOnlyList<string>? ServerLabels = null,
    SessionFacts? Session = null)
{
    /// <summary>Gets the user an OAuth caller acts for (<c>@user</c>), or <see langword="null"/> for an agent's own key.</summary>
    public string? User { get; init; }

    /// <summary>Gets the user's groups or roles (<c>@user.groups</c>).</summary>
    public IReadOnlyList<string>? UserGroups { get; init; }
}

/// <summary>The effect applied when no rule matches, per access class.</summary>
public sealed record PolicyDefaults(PolicyEffect Read = PolicyEffect.Allow, PolicyEffect Write = PolicyEffect.Allow, PolicyEffect Destructive = PolicyEffect.Escalate)
{
    /// <summary>Gets the shipped defaults: granted reads and writes are allowed, destructive calls are escalated.</summary>
    public static PolicyDefaults Shipped { get; } = new();

    /// <summary>Gets the default for a class.</summary>
    public PolicyEffect For(AccessClass accessClass) => accessClass switch
    {
        AccessClass.Read => Read,
        AccessClass.Write => Write,
        _ => Destructive,
    };
}

/// <summary>
/// The policy rules compiled into an immutable snapshot. Evaluation is pure, does no I/O and allocates nothing; the
/// snapshot is rebuilt when rules change and swapped whole.
/// </summary>
/// <remarks>
/// Precedence: <c>block</c> beats <c>escalate</c> beats <c>allow</c>; among rules of the winning effect the most specific
/// (the most criteria and conditions) names the decision, then the name in ordinal order. The decision therefore does not
/// depend on the order rules were written in. When no rule matches, <see cref="PolicyDefaults"/> decides.
/// A rule's secrets mode is decided apart from its effect: of the matching rules that set one, the strictest
/// (block, redact, flag, off) wins, then the most specific, then the name; it replaces the server's mode for the call.
/// </remarks>
public sealed class PolicyEngine
{
    private readonly CompiledRule[] _rules;
    private readonly PolicyDecision[] _defaultDecisions;

    /// <summary>Initializes a new instance of the <see cref="PolicyEngine"/> class.</summary>
    /// <exception cref="ArgumentException">A rule is invalid (validate with <see cref="PolicyRuleValidator"/> first).</exception>
    public PolicyEngine(IEnumerable<PolicyRule> rules, PolicyDefaults? defaults = null)
    {
        Rules = [.. rules];
        Defaults = defaults ?? PolicyDefaults.Shipped;
        _rules = [.. Rules.Select(r => new CompiledRule(r))];
        ReadsSessionFacts = Rules.Any(r => r.Conditions.Any(c => c.Path is PolicyFacts.SessionLabels or PolicyFacts.SessionFindings));

        // Built once: the call path allocates nothing, not even the default's reason.
        _defaultDecisions = [.. Enum.GetValues<AccessClass>().Select(c =>
            new PolicyDecision(Defaults.For(c), null, $"no rule matched; the default for {c.Name()} tools is {Defaults.For(c).Name()}"))];
    }

    /// <summary>Gets an engine with no rules and the shipped defaults.</summary>
    public static PolicyEngine Empty { get; } = new([]);

    /// <summary>Gets the rules, as given.</summary>
    public IReadOnlyList<PolicyRule> Rules { get; }

    /// <summary>Gets the defaults.</summary>
    public PolicyDefaults Defaults { get; }

    /// <summary>Gets a value indicating whether a rule tests what the session received (<c>@session.*</c>): only then are a shared session's facts read back before deciding.</summary>
    public bool ReadsSessionFacts { get; }

    /// <summary>Decides one call.</summary>
    public PolicyDecision Evaluate(in PolicyInput input)
    {
        CompiledRule? best = null;
        CompiledRule? secrets = null;
        foreach (var rule in _rules)
        {
            if (!rule.Matches(input))
            {
                continue;
            }

            if (rule.Effect is not null && (best is null || rule.Beats(best)))
            {
                best = rule;
            }

            if (rule.Secrets is not null && (secrets is null || rule.GuardsMoreThan(secrets)))
            {
                secrets = rule;
            }
        }

        var decision = best is null ? _defaultDecisions[(int)input.Class] : new PolicyDecision(best.Effect!.Value, best.Name, best.Reason);
        return secrets is null ? decision : decision with { Secrets = secrets.Secrets, SecretsRule = secrets.Name };
    }

    /// <summary>Lists every rule that matches, for the explain endpoint (allocates; not for the call path).</summary>
    public IReadOnlyList<PolicyRule> Matching(in PolicyInput input)
    {
        var matching = new List<PolicyRule>();
        for (var i = 0; i < _rules.Length; i++)
        {
            if (_rules[i].Matches(input))
            {
                matching.Add(Rules[i]);
            }
        }

        return matching;
    }

    private sealed class CompiledRule
    {
        private readonly FrozenSet<string>? _agents;
        private readonly FrozenSet<string>? _tags;
        private readonly Glob[] _servers;
        private readonly Glob[] _tools;
        private readonly int _classMask;
        private readonly CompiledCondition[] _conditions;
        private readonly int _specificity;

        public CompiledRule(PolicyRule rule)
        {
            Name = rule.Name;
            Effect = rule.Effect;
            Secrets = rule.Secrets;
            Reason = rule.Reason ?? $"rule '{rule.Name}'";
            var names = rule.Agents.Where(a => !a.StartsWith("tag:", StringComparison.Ordinal)).ToList();
            var tags = rule.Agents.Where(a => a.StartsWith("tag:", StringComparison.Ordinal)).Select(a => a[4..]).ToList();
            _agents = rule.Agents.Count == 0 ? null : names.ToFrozenSet(StringComparer.Ordinal);
            _tags = rule.Agents.Count == 0 ? null : tags.ToFrozenSet(StringComparer.Ordinal);
            _servers = [.. rule.Servers.Where(s => s != "*").Select(s => new Glob(s))];
            _tools = [.. rule.Tools.Where(t => t != "*").Select(t => new Glob(t))];
            _classMask = rule.Classes.Aggregate(0, (mask, c) => mask | (1 << (int)c));
            _conditions = [.. rule.Conditions.Select(c => new CompiledCondition(c))];
            _specificity = (_agents is null ? 0 : 1) + (_servers.Length == 0 ? 0 : 1) + (_tools.Length == 0 ? 0 : 1) + (_classMask == 0 ? 0 : 1) + _conditions.Length;
        }

        public string Name { get; }

        public PolicyEffect? Effect { get; }

        public SecretMode? Secrets { get; }

        public string Reason { get; }

        public bool Beats(CompiledRule other) =>
            Effect != other.Effect ? Effect > other.Effect
            : _specificity != other._specificity ? _specificity > other._specificity
            : string.CompareOrdinal(Name, other.Name) < 0;

        // The enum is ordered from off to block, so the greater mode is the stricter.
        public bool GuardsMoreThan(CompiledRule other) =>
            Secrets != other.Secrets ? Secrets > other.Secrets
            : _specificity != other._specificity ? _specificity > other._specificity
            : string.CompareOrdinal(Name, other.Name) < 0;

        public bool Matches(in PolicyInput input)
        {
            if (_classMask != 0 && (_classMask & (1 << (int)input.Class)) == 0)
            {
                return false;
            }

            if (_agents is not null && !_agents.Contains(input.Agent) && !AnyTag(input.AgentTags))
            {
                return false;
            }

            if (_servers.Length > 0 && !AnyMatch(_servers, input.Server))
            {
                return false;
            }

            if (_tools.Length > 0 && !AnyMatch(_tools, input.Tool))
            {
                return false;
            }

            foreach (var condition in _conditions)
            {
                // Undecidable counts against the agent: it triggers a block or escalate rule, never an allow rule;
                // and a secrets-only rule when it guards (redact, block), never when it relaxes the guard.
                var holds = condition.Evaluate(input) ?? (Effect is { } effect ? effect != PolicyEffect.Allow : Secrets >= SecretMode.Redact);
                if (!holds)
                {
                    return false;
                }
            }

            return true;
        }

        private bool AnyTag(IReadOnlyList<string> tags)
        {
            for (var i = 0; i < tags.Count; i++)
            {
                if (_tags!.Contains(tags[i]))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool AnyMatch(Glob[] globs, string text)
        {
            foreach (var glob in globs)
            {
                if (glob.IsMatch(text))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
