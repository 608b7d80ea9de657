using System.Text.Json;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Policy;

/// <summary>
/// A rule as written in configuration, the API and the database: plain strings, so that every problem can be reported
/// with its field before anything is applied.
/// </summary>
public sealed record PolicyRuleDocument
{
    /// <summary>Gets or sets the unique name.</summary>
    public string? Name { get; init; }

    /// <summary>Gets or sets <c>allow</c>, <c>escalate</c> or <c>block</c>; may be left out when <see cref="Secrets"/> is given.</summary>
    public string? Effect { get; init; }

    /// <summary>Gets or sets the result guard's secrets mode for the matching calls (<c>off</c>, <c>flag</c>, <c>redact</c>, <c>block</c>), replacing the server's; empty leaves the server's.</summary>
    public string? Secrets { get; init; }

    /// <summary>Gets or sets agent names or <c>tag:</c> tags.</summary>
    public List<string>? Agents { get; init; }

    /// <summary>Gets or sets server globs.</summary>
    public List<string>? Servers { get; init; }

    /// <summary>Gets or sets tool globs.</summary>
    public List<string>? Tools { get; init; }

    /// <summary>Gets or sets <c>read</c>, <c>write</c>, <c>destructive</c>.</summary>
    public List<string>? Classes { get; init; }

    /// <summary>Gets or sets the argument conditions.</summary>
    public List<ConditionDocument>? Conditions { get; init; }

    /// <summary>Gets or sets the reason shown to the agent.</summary>
    public string? Reason { get; init; }

    /// <summary>Converts to a rule, collecting every error (field-prefixed) instead of stopping at the first.</summary>
    public PolicyRule? ToRule(ICollection<string> errors, bool managedByConfiguration = false)
    {
        var before = errors.Count;

        // A JSON body may hold null where a list wants a string or a condition: a field error, not a crash further on.
        foreach (var (field, list) in new (string, System.Collections.IList?)[] { ("agents", Agents), ("servers", Servers), ("tools", Tools), ("classes", Classes), ("conditions", Conditions) })
        {
            for (var i = 0; i < (list?.Count ?? 0); i++)
            {
                if (list![i] is null)
                {
                    errors.Add($"{field}[{i}]: must not be null.");
                }
            }
        }

        if (errors.Count > before)
        {
            return null;
        }

        PolicyEffect? effect = null;
        if (!string.IsNullOrWhiteSpace(Effect) || string.IsNullOrWhiteSpace(Secrets))
        {
            if (PolicyEffects.TryParse(Effect, out var parsed))
            {
                effect = parsed;
            }
            else
            {
                errors.Add($"effect: '{Effect}' is not allow, escalate or block.");
            }
        }

        SecretMode? secrets = null;
        if (!string.IsNullOrWhiteSpace(Secrets))
        {
            if (GuardModes.TryParseSecrets(Secrets, out var mode))
            {
                secrets = mode;
            }
            else
            {
                errors.Add($"secrets: '{Secrets}' is not one of {GuardModes.SecretNames}.");
            }
        }

        var classes = new List<AccessClass>();
        foreach (var c in Classes ?? [])
        {
            if (ToolClassifier.TryParse(c, out var parsed))
            {
                classes.Add(parsed);
            }
            else
            {
                errors.Add($"classes: '{c}' is not read, write or destructive.");
            }
        }

        var conditions = new List<ArgumentCondition>();
        foreach (var (c, i) in (Conditions ?? []).Select((c, i) => (c, i)))
        {
            if (!ConditionOperators.TryParse(c.Op, out var op))
            {
                errors.Add($"conditions[{i}].op: '{c.Op}' is not one of {ConditionOperators.Names}.");
                continue;
            }

            conditions.Add(new ArgumentCondition(c.Path ?? string.Empty, op, c.Value));
        }

        var rule = new PolicyRule
        {
            Name = Name ?? string.Empty,
            Effect = effect,
            Secrets = secrets,
            Agents = Agents ?? [],
            Servers = Servers ?? [],
            Tools = Tools ?? [],
            Classes = classes,
            Conditions = conditions,
            Reason = Reason,
            ManagedByConfiguration = managedByConfiguration,
        };
        foreach (var failure in new PolicyRuleValidator().Validate(rule).Errors)
        {
            errors.Add($"{Field(failure.PropertyName)}: {failure.ErrorMessage}");
        }

        return errors.Count == before ? rule : null;
    }

    /// <summary>Converts a rule back to its document form.</summary>
    public static PolicyRuleDocument From(PolicyRule rule) => new()
    {
        Name = rule.Name,
        Effect = rule.Effect?.Name(),
        Secrets = rule.Secrets?.Name(),
        Agents = [.. rule.Agents],
        Servers = [.. rule.Servers],
        Tools = [.. rule.Tools],
        Classes = [.. rule.Classes.Select(c => c.Name())],
        Conditions = [.. rule.Conditions.Select(c => new ConditionDocument { Path = c.Path, Op = c.Operator.Name(), Value = c.Value })],
        Reason = rule.Reason,
    };

    private static string Field(string property)
    {
        var head = property.Split('.')[0];
        return head.Length == 0 ? head : char.ToLowerInvariant(head[0]) + head[1..];
    }
}

/// <summary>A condition as written: <c>{ "path": "amount", "op": "gt", "value": 1000 }</c>.</summary>
public sealed record ConditionDocument
{
    /// <summary>Gets or sets the argument path.</summary>
    public string? Path { get; init; }

    /// <summary>Gets or sets the operator.</summary>
    public string? Op { get; init; }

    /// <summary>Gets or sets the value compared against.</summary>
    public JsonElement Value { get; init; }
}
