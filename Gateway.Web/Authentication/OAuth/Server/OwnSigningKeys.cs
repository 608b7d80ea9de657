using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The validator's view of the gateway's own issuer: its signing key, in process. The gateway does not fetch its own
/// metadata over HTTP (which would go through the proxy in front of it, and cost a request per key refresh).
/// </summary>
internal sealed class OwnSigningKeys : IConfigurationManager<OpenIdConnectConfiguration>
{
    private readonly OpenIdConnectConfiguration _configuration = new();

    public OwnSigningKeys(AuthorizationServerKey key) => _configuration.SigningKeys.Add(key.Signing);

    public Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel) => Task.FromResult(_configuration);

    /// <summary>Nothing to refresh: the key is the file this process loaded.</summary>
    public void RequestRefresh()
    {
    }
}
