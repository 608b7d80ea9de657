using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Gateway.Web.Authentication.OAuth.Logout;

/// <summary>
/// An identity provider whose back-channel logout tokens the gateway accepts: its issuer, the gateway's client id there
/// (the tokens' audience), its signing keys (its JWKS, cached), and how its <c>sub</c> names the user the gateway revokes.
/// </summary>
/// <param name="Issuer">The issuer, as its tokens name it (with or without a trailing slash).</param>
/// <param name="ClientId">The gateway's client id at the issuer.</param>
/// <param name="Keys">The issuer's metadata and keys.</param>
/// <param name="UserOf">The user revoked for a subject: the subject itself for agents' tokens, <c>sub@host</c> for console users.</param>
internal sealed record LogoutSource(string Issuer, string ClientId, IConfigurationManager<OpenIdConnectConfiguration> Keys, Func<string, string> UserOf)
{
    /// <summary>Whether <paramref name="issuer"/> is this source's (a trailing slash either way).</summary>
    public bool Issued(string issuer) => string.Equals(issuer.TrimEnd('/'), Issuer.TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>A source whose keys come from <c>{issuer}/.well-known/openid-configuration</c>, fetched through <paramref name="http"/>.</summary>
    public static LogoutSource Fetching(string issuer, string clientId, bool requireHttps, HttpClient http, Func<string, string> userOf) => new(
        issuer,
        clientId,
        new ConfigurationManager<OpenIdConnectConfiguration>(
            issuer.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = requireHttps }),
        userOf);
}
