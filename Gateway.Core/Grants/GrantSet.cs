using Gateway.Core.Policy;

namespace Gateway.Core.Grants;

/// <summary>An agent's grants. Deny by default: an empty set allows nothing.</summary>
public sealed class GrantSet
{
    private readonly ToolGrant[] _grants;

    /// <summary>Initializes a new instance of the <see cref="GrantSet"/> class.</summary>
    public GrantSet(IEnumerable<ToolGrant> grants) => _grants = [.. grants];

    /// <summary>Gets the empty set.</summary>
    public static GrantSet None { get; } = new([]);

    /// <summary>Gets the grants.</summary>
    public IReadOnlyList<ToolGrant> Grants => _grants;

    /// <summary>Returns whether the agent may see and call <paramref name="tool"/> (its original name, of the given class) on <paramref name="server"/> at <paramref name="now"/>.</summary>
    public bool Allows(string server, string tool, AccessClass accessClass, DateTimeOffset now)
    {
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
