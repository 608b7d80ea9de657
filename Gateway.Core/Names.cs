using System.Text.RegularExpressions;

namespace Gateway.Core;

/// <summary>The rule for names of servers and agents: they appear in grants, prefixes, logs and URLs.</summary>
public static partial class Names
{
    /// <summary>The rule, as a message.</summary>
    public const string Rule = "Name must be 1-64 characters: letters, digits, '-' or '_', starting with a letter or digit.";

    /// <summary>Returns whether <paramref name="name"/> is a valid server or agent name.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex Pattern();
}
