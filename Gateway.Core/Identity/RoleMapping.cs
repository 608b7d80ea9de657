namespace Gateway.Core.Identity;

/// <summary>
/// Maps the values of an identity provider's role (or group) claim to the console's roles. Each role lists the claim
/// values that grant it; a role with no list is granted by a claim value equal to its own name, so an IdP that
/// already says "Admin" needs no mapping. Values that map to nothing grant nothing (deny by default).
/// </summary>
public sealed class RoleMapping
{
    private readonly Dictionary<string, HashSet<string>> _grantedBy;

    /// <summary>Initializes a new instance of the <see cref="RoleMapping"/> class.</summary>
    /// <param name="map">Role name → claim values that grant it (compared case-sensitively: group ids are exact).</param>
    public RoleMapping(IReadOnlyDictionary<string, IReadOnlyList<string>>? map)
    {
        _grantedBy = [];
        foreach (var role in ConsoleRoles.All)
        {
            var values = map?.FirstOrDefault(kv => string.Equals(kv.Key, role, StringComparison.OrdinalIgnoreCase)).Value;
            _grantedBy[role] = values is { Count: > 0 } ? new HashSet<string>(values, StringComparer.Ordinal) : [role];
        }
    }

    /// <summary>Returns the console roles the given claim values grant, in display order.</summary>
    public IReadOnlyList<string> Map(IEnumerable<string> claimValues)
    {
        var values = claimValues as ICollection<string> ?? claimValues.ToList();
        return ConsoleRoles.All.Where(role => values.Any(_grantedBy[role].Contains)).ToList();
    }
}
