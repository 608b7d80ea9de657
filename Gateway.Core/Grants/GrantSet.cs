using Gateway.Core.Policy;

namespace Gateway.Core.Grants;

/// <summary>An agent's grants. Deny by default: an empty set allows nothing.</summary>
public sealed class GrantSet
{
    private readonly ToolGrant[] _grants;
    private readonly GrantSet[] _limits;

    /// <summary>Initializes a new instance of the <see cref="GrantSet"/> class.</summary>
    public GrantSet(IEnumerable<ToolGrant> grants)
        : this([.. grants], [])
    {
    }

    private GrantSet(ToolGrant[] grants, GrantSet[] limits)
    {
        _grants = grants;
        _limits = limits;
    }

    /// <summary>Gets the empty set.</summary>
    public static GrantSet None { get; } = new([]);

    /// <summary>Gets the grants (before any narrowing by <see cref="Within"/>).</summary>
    public IReadOnlyList<ToolGrant> Grants => _grants;

    /// <summary>
    /// Narrows this set to what <paramref name="limit"/> allows too: an OAuth caller gets its agent's grants, narrowed
    /// by what the user's groups and the client's scopes allow.
    /// </summary>
    public GrantSet Within(GrantSet limit) => new(_grants, [.. _limits, limit]);

    /// <summary>Joins sets: what any of them allows.</summary>
    public static GrantSet Union(IEnumerable<GrantSet> sets) => new(sets.SelectMany(s => s._grants));

    /// <summary>Returns whether the agent may see and call <paramref name="tool"/> (its original name, of the given class) on <paramref name="server"/> at <paramref name="now"/>.</summary>
    public bool Allows(string server, string tool, AccessClass accessClass, DateTimeOffset now)
    {
        foreach (var limit in _limits)
        {
            if (!limit.Allows(server, tool, accessClass, now))
            {
                return false;
            }
        }

        foreach (var grant in _grants)
        {
            if (grant.Allows(server, tool, accessClass, now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns whether a live grant names <paramref name="server"/>; such an agent sees that server's prompts and resources.</summary>
    public bool AllowsAnyOf(string server, DateTimeOffset now)
    {
        foreach (var limit in _limits)
        {
            if (!limit.AllowsAnyOf(server, now))
            {
                return false;
            }
        }

        foreach (var grant in _grants)
        {
            if (grant.IsLive(now) && grant.Server.IsMatch(server))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses grant texts, collecting every invalid one.</summary>
    public static GrantSet Parse(IEnumerable<string> texts, ICollection<string> errors)
    {
        var grants = new List<ToolGrant>();
        foreach (var text in texts)
        {
            if (ToolGrant.TryParse(text, out var grant))
            {
                grants.Add(grant);
            }
            else
            {
                errors.Add($"Invalid grant '{text}'. {ToolGrant.Syntax}");
            }
        }

        return new GrantSet(grants);
    }
}
