using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;

namespace Gateway.Core.Policy;

/// <summary>Validates a rule; every problem is reported, and an invalid rule is never applied.</summary>
public sealed class PolicyRuleValidator : AbstractValidator<PolicyRule>
{
    /// <summary>Initializes a new instance of the <see cref="PolicyRuleValidator"/> class.</summary>
    public PolicyRuleValidator()
    {
        RuleFor(r => r.Name).Must(Names.IsValid).WithMessage(Names.Rule);
        RuleFor(r => r.Effect).IsInEnum();
        RuleFor(r => r.Effect).NotNull().When(r => r.Secrets is null).WithMessage("A rule needs an effect (allow, escalate, block), a secrets mode, or both.");
        RuleFor(r => r.Secrets).IsInEnum();
        RuleForEach(r => r.Agents).NotEmpty().WithMessage("An agent entry must be a name or 'tag:<tag>'.");
        RuleForEach(r => r.Servers).NotEmpty().Must(NoWhitespace).WithMessage("A server entry must be a name or glob without spaces.");
        RuleForEach(r => r.Tools).NotEmpty().Must(NoWhitespace).WithMessage("A tool entry must be a name or glob without spaces.");
        RuleForEach(r => r.Classes).IsInEnum();
        RuleForEach(r => r.Conditions).ChildRules(c =>
        {
            c.RuleFor(x => x.Path).Must(p => PolicyFacts.IsFact(p) || ArgumentPath.TryParse(p, out _)).WithMessage(x => $"'{x.Path}' is not an argument path (e.g. 'amount', '$.order.total', 'items[0].id') or a fact ({PolicyFacts.Names}).");
            c.RuleFor(x => x.Operator).Must(PolicyFacts.Supports).When(x => PolicyFacts.IsFact(x.Path)).WithMessage(x => $"'{x.Path}' is a set of names: use equals, not_equals, in, matches or exists.");
            c.RuleFor(x => x.Operator).IsInEnum();
            c.RuleFor(x => x).Must(HaveAValueOfTheRightType).WithMessage(x => ValueMessage(x.Operator));
        });
        RuleFor(r => r.Reason).MaximumLength(500);
    }

    private static bool NoWhitespace(string s) => !s.Any(char.IsWhiteSpace);

    private static bool HaveAValueOfTheRightType(ArgumentCondition c) => c.Operator switch
    {
        ConditionOperator.In => c.Value.ValueKind == JsonValueKind.Array,
        ConditionOperator.Matches => c.Value.ValueKind == JsonValueKind.String && IsRegex(c.Value.GetString()!),
        ConditionOperator.GreaterThan or ConditionOperator.GreaterOrEqual or ConditionOperator.LessThan or ConditionOperator.LessOrEqual
            => c.Value.ValueKind == JsonValueKind.Number,
        ConditionOperator.Under => c.Value.ValueKind == JsonValueKind.String && c.Value.GetString()!.StartsWith('/'),
        ConditionOperator.Exists => true,
        _ => c.Value.ValueKind != JsonValueKind.Undefined,
    };

    private static string ValueMessage(ConditionOperator op) => op switch
    {
        ConditionOperator.In => "'in' needs an array of values.",
        ConditionOperator.Matches => "'matches' needs a valid regular expression.",
        ConditionOperator.Under => "'under' needs an absolute path.",
        ConditionOperator.Equals or ConditionOperator.NotEquals => "The condition needs a value.",
        _ => "A numeric comparison needs a number.",
    };

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
