namespace Gateway.Core.Identity;

/// <summary>A person who signs in to the console: a local account or one seen through OpenID Connect.</summary>
public sealed record ConsoleUser
{
    public long Id { get; init; }

    /// <summary>Gets the sign-in name (local) or the IdP's <c>sub</c>-derived key <c>issuer|subject</c> (OIDC).</summary>
    public required string UserName { get; init; }

    public required string DisplayName { get; init; }

    public required ConsoleUserSource Source { get; init; }

    /// <summary>Gets the roles an admin assigned in the console.</summary>
    public IReadOnlyList<string> AssignedRoles { get; init; } = [];

    /// <summary>Gets the roles the identity provider's claims gave at the last sign-in (OIDC users only).</summary>
    public IReadOnlyList<string> ProviderRoles { get; init; } = [];

    /// <summary>Gets the password hash (local users only).</summary>
    public string? PasswordHash { get; init; }

    /// <summary>Gets a value indicating whether the password is a one-time password that must be changed first.</summary>
    public bool MustChangePassword { get; init; }

    public bool Enabled { get; init; } = true;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastSignInAt { get; init; }

    /// <summary>Gets the roles in effect: assigned in the console plus those from the identity provider.</summary>
    public IReadOnlyList<string> Roles => ConsoleRoles.All.Where(r => AssignedRoles.Contains(r) || ProviderRoles.Contains(r)).ToList();
}

/// <summary>Where a console user's identity comes from.</summary>
public enum ConsoleUserSource
{
    Local,
    Oidc,
}
