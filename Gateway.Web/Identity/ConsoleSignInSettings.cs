namespace Gateway.Web.Identity;

/// <summary>Which sign-in methods the console offers, decided once from configuration.</summary>
/// <param name="Oidc">The OpenID Connect settings.</param>
/// <param name="LocalEnabled">
/// Whether local accounts can sign in: <c>Authentication:LocalLogin</c>, by default on when OIDC is not configured.
/// </param>
public sealed record ConsoleSignInSettings(OidcSettings Oidc, bool LocalEnabled)
{
    /// <summary>The authentication scheme of the OpenID Connect handler.</summary>
    public const string OidcScheme = "oidc";

    public static ConsoleSignInSettings From(IConfiguration configuration)
    {
        var oidc = configuration.GetSection(OidcSettings.Section).Get<OidcSettings>() ?? new OidcSettings();
        var local = configuration.GetValue<bool?>("Authentication:LocalLogin") ?? !oidc.IsConfigured;
        return new ConsoleSignInSettings(oidc, local);
    }
}
