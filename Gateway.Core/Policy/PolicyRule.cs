using System.Text.Json;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Policy;

/// <summary>
/// A policy rule: when a call matches every criterion given (an empty list matches anything), the rule's effect
/// applies. Evaluated after the grant check, on every <c>tools/call</c>.
/// </summary>
public sealed record PolicyRule
{
    /// <summary>Gets the unique name, reported with every decision the rule makes.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Gets the effect; <see langword="null"/> for a rule that only sets <see cref="Secrets"/> (it takes no part in
    /// deciding allow, escalate or block, so it cannot lift a default by accident).
    /// </summary>
    public PolicyEffect? Effect { get; init; }

    /// <summary>
    /// Gets the result guard's secrets mode for the calls the rule matches, replacing the server's own (stricter or
    /// looser); <see langword="null"/> leaves the server's. When several matching rules set one, the strictest wins.
    /// </summary>
    public SecretMode? Secrets { get; init; }

    /// <summary>Gets agent names or tags (<c>tag:finance</c>); empty matches every agent.</summary>
    public IReadOnlyList<string> Agents { get; init; } = [];

    /// <summary>Gets server globs; empty matches every server.</summary>
    public IReadOnlyList<string> Servers { get; init; } = [];

    /// <summary>Gets tool globs (original names); empty matches every tool.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Gets the access classes; empty matches every class.</summary>
    public IReadOnlyList<AccessClass> Classes { get; init; } = [];

    /// <summary>Gets conditions on the call's arguments; all must hold.</summary>
    public IReadOnlyList<ArgumentCondition> Conditions { get; init; } = [];

    /// <summary>Gets the reason shown to the agent and in the audit.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets a value indicating whether configuration owns this rule.</summary>
    public bool ManagedByConfiguration { get; init; }
}

/// <summary>A condition on one argument, addressed by a path (<c>amount</c>, <c>$.order.total</c>, <c>items[0].id</c>).</summary>
public sealed record ArgumentCondition(string Path, ConditionOperator Operator, JsonElement Value);

/// <summary>How an argument is compared. A missing argument, or one of the wrong type, never satisfies a condition.</summary>
public enum ConditionOperator
{
    /// <summary>Equal JSON values (numbers compared numerically, strings ordinally).</summary>
    Equals,

    /// <summary>Present and not equal.</summary>
    NotEquals,

    /// <summary>Equal to one of the values of an array.</summary>
    In,

    /// <summary>A string matching a regular expression.</summary>
    Matches,

    /// <summary>A number greater than the value.</summary>
    GreaterThan,

    /// <summary>A number greater than or equal to the value.</summary>
    GreaterOrEqual,

    /// <summary>A number less than the value.</summary>
    LessThan,

    /// <summary>A number less than or equal to the value.</summary>
    LessOrEqual,

    /// <summary>A file-system path at or under the value, after normalizing <c>.</c>, <c>..</c> and repeated slashes.</summary>
    Under,

    /// <summary>Present, whatever its value.</summary>
    Exists,
}
