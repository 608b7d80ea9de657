namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The one issuer whose access tokens the gateway accepts: the configured external IdP (<see cref="AgentOAuthSettings.Issuer"/>),
/// or the gateway itself when its own authorization server is on (the origin of its resource URL). Like the resource URL
/// it is fixed once known, never taken from a request's Host.
/// </summary>
internal sealed class OAuthIssuer(AgentOAuthSettings settings, ProtectedResource resource)
{
    private string? _url;

    /// <summary>Gets the issuer URL as tokens and the metadata name it.</summary>
    public string Url => _url ??= settings.AuthorizationServer.Enabled ? Own(resource.Resource) : settings.Issuer!;

    /// <summary>The gateway's own issuer for a resource URL: its origin with a trailing slash (as OpenIddict writes it).</summary>
    public static string Own(string resource) => new Uri(resource).GetLeftPart(UriPartial.Authority) + "/";
}
