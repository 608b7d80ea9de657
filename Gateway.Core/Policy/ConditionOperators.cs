namespace Gateway.Core.Policy;

/// <summary>Textual forms of <see cref="ConditionOperator"/> (as written in configuration and the API).</summary>
public static class ConditionOperators
{
    private static readonly Dictionary<string, ConditionOperator> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["equals"] = ConditionOperator.Equals,
        ["=="] = ConditionOperator.Equals,
        ["not_equals"] = ConditionOperator.NotEquals,
        ["!="] = ConditionOperator.NotEquals,
        ["in"] = ConditionOperator.In,
        ["matches"] = ConditionOperator.Matches,
        ["gt"] = ConditionOperator.GreaterThan,
        [">"] = ConditionOperator.GreaterThan,
        ["gte"] = ConditionOperator.GreaterOrEqual,
        [">="] = ConditionOperator.GreaterOrEqual,
        ["lt"] = ConditionOperator.LessThan,
        ["<"] = ConditionOperator.LessThan,
        ["lte"] = ConditionOperator.LessOrEqual,
        ["<="] = ConditionOperator.LessOrEqual,
        ["under"] = ConditionOperator.Under,
        ["exists"] = ConditionOperator.Exists,
    };

    /// <summary>The accepted names, for error messages.</summary>
    public const string Names = "equals (==), not_equals (!=), in, matches, gt (>), gte (>=), lt (<), lte (<=), under, exists";

    /// <summary>The canonical name of an operator.</summary>
    public static string Name(this ConditionOperator op) => op switch
    {
        ConditionOperator.Equals => "equals",
        ConditionOperator.NotEquals => "not_equals",
        ConditionOperator.In => "in",
        ConditionOperator.Matches => "matches",
        ConditionOperator.GreaterThan => "gt",
        ConditionOperator.GreaterOrEqual => "gte",
        ConditionOperator.LessThan => "lt",
        ConditionOperator.LessOrEqual => "lte",
        ConditionOperator.Under => "under",
        _ => "exists",
    };

    /// <summary>Parses an operator name.</summary>
    public static bool TryParse(string? text, out ConditionOperator op) => ByName.TryGetValue(text?.Trim() ?? string.Empty, out op);
}
