namespace Gateway.Core.Policy;

/// <summary>What happens to a call. Ordered by severity: block beats escalate beats allow.</summary>
public enum PolicyEffect
{
    /// <summary>Forward the call.</summary>
    Allow = 0,

    /// <summary>Hold the call for a human's approval.</summary>
    Escalate = 1,

    /// <summary>Refuse the call; it never reaches the upstream.</summary>
    Block = 2,
}

/// <summary>Parsing and naming of effects.</summary>
public static class PolicyEffects
{
    /// <summary>Parses <c>allow</c>, <c>escalate</c> or <c>block</c> (case-insensitive).</summary>
    public static bool TryParse(string? text, out PolicyEffect effect)
    {
        effect = PolicyEffect.Block;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "allow":
                effect = PolicyEffect.Allow;
                return true;
            case "escalate":
                effect = PolicyEffect.Escalate;
                return true;
            case "block":
                effect = PolicyEffect.Block;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The lower-case name.</summary>
    public static string Name(this PolicyEffect effect) => effect switch
    {
        PolicyEffect.Allow => "allow",
        PolicyEffect.Escalate => "escalate",
        _ => "block",
    };
}
