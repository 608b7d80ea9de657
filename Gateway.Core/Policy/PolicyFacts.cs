using System.Text.Json;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Policy;

/// <summary>
/// Condition paths that name facts of the call's context instead of an argument: <c>@server.labels</c> (the labels of
/// the server called), <c>@session.labels</c> (the labels of every server whose result the session has received) and
/// <c>@session.findings</c> (the finding kinds of the session's calls so far, e.g. <c>injection</c>,
/// <c>secret.aws-access-key</c>), and for an OAuth caller <c>@user</c> (the user the agent acts for) and
/// <c>@user.groups</c> (that user's groups or roles). Each is a set: <c>equals</c> holds when it contains the value, <c>in</c> when it
/// contains one of the values, <c>not_equals</c> when it does not contain the value, <c>matches</c> when an element
/// matches, <c>exists</c> when it is not empty.
/// </summary>
public static class PolicyFacts
{
    /// <summary>The labels of the server called.</summary>
    public const string ServerLabels = "@server.labels";

    /// <summary>The labels of the servers whose results the session has received.</summary>
    public const string SessionLabels = "@session.labels";

    /// <summary>The finding kinds of the session's calls.</summary>
    public const string SessionFindings = "@session.findings";

    /// <summary>The user an OAuth caller acts for (empty for an agent's own key).</summary>
    public const string User = "@user";

    /// <summary>The groups or roles of that user.</summary>
    public const string UserGroups = "@user.groups";

    /// <summary>The fact paths, for error messages.</summary>
    public const string Names = "@server.labels, @session.labels, @session.findings, @user, @user.groups";

    /// <summary>Whether a path names a fact.</summary>
    public static bool IsFact(string? path) => path is ServerLabels or SessionLabels or SessionFindings or User or UserGroups;

    /// <summary>Whether an operator applies to a fact (a set of strings).</summary>
    public static bool Supports(ConditionOperator op) =>
        op is ConditionOperator.Equals or ConditionOperator.NotEquals or ConditionOperator.In or ConditionOperator.Matches or ConditionOperator.Exists;

    /// <summary>The set a fact path names, or <see langword="null"/> when it cannot be known (session facts not kept).</summary>
    internal static IReadOnlyList<string>? Resolve(string path, in PolicyInput input) => path switch
    {
        ServerLabels => input.ServerLabels ?? [],
        User => input.User is null ? [] : [input.User],
        UserGroups => input.UserGroups ?? [],
        _ when input.Session is { Known: false } => null,
        SessionLabels => input.Session?.Labels ?? [],
        _ => input.Session?.FindingKinds ?? [],
    };

    /// <summary>Whether a set contains a JSON string value.</summary>
    internal static bool Contains(IReadOnlyList<string> set, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var wanted = value.GetString();
        for (var i = 0; i < set.Count; i++)
        {
            if (string.Equals(set[i], wanted, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
