namespace Gateway.Core.Approvals;

/// <summary>
/// Who decides an approval: the console user's <paramref name="Name"/>, and <paramref name="AsAgentsUser"/>, the name
/// agents' access tokens give the same person when it differs (an OIDC console user is <c>sub@issuer-host</c>, their
/// agents' tokens carry the bare <c>sub</c>). Four eyes compare both with the user a held call was made for.
/// </summary>
public sealed record Approver(string Name, string AsAgentsUser)
{
    /// <summary>A decider named the same everywhere (a local console user, the admin API).</summary>
    public Approver(string name)
        : this(name, name)
    {
    }
}
