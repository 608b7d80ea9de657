namespace Gateway.Web.Identity;

/// <summary><c>Authentication:Oidc</c>: sign-in to the console through an OpenID Connect provider (code flow + PKCE).</summary>
public sealed class OidcSettings
{
    public const string Section = "Authentication:Oidc";

    /// <summary>Gets or sets the issuer URL. OIDC is on when this is set.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Gets or sets the scopes asked for besides <c>openid</c> and <c>profile</c>.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>Gets or sets the claim that carries roles or groups. The default is <c>role</c>.</summary>
    public string RoleClaim { get; set; } = "role";

    /// <summary>Gets or sets the claim shown as the user's name. The default is <c>name</c>.</summary>
    public string NameClaim { get; set; } = "name";

    /// <summary>
    /// Gets or sets, per console role (Admin, Approver, Auditor), the values of <see cref="RoleClaim"/> that grant it.
    /// A role not listed is granted by the value equal to its name.
    /// </summary>
    public Dictionary<string, List<string>> Roles { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the authority must be HTTPS. Turn off only for a loopback test IdP.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Gets or sets the label of the sign-in button.</summary>
    public string DisplayName { get; set; } = "single sign-on";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}
