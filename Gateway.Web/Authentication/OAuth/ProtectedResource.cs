using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The gateway as an OAuth protected resource: its resource URL (the audience its tokens must carry) and the address of
/// its metadata document. Fixed once known, never taken from a request's Host: a token minted for another resource must
/// not pass here because a client named that resource in its Host header.
/// </summary>
internal sealed class ProtectedResource(AgentOAuthSettings settings, IServer server)
{
    /// <summary>The well-known path of the metadata document (RFC 9728 §3); the path-suffixed form appends <c>/mcp</c>.</summary>
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    private string? _resource;

    /// <summary>Gets the resource URL: the configured one, or the first listening address plus <c>/mcp</c>.</summary>
    public string Resource => _resource ??= Resolve();

    /// <summary>Gets the metadata address for the resource URL (well-known path inserted before the resource's path).</summary>
    public string MetadataUrl
    {
        get
        {
            var uri = new Uri(Resource);
            return uri.GetLeftPart(UriPartial.Authority) + MetadataPath + uri.AbsolutePath.TrimEnd('/');
        }
    }

    private string Resolve()
    {
        if (!string.IsNullOrWhiteSpace(settings.Resource))
        {
            return settings.Resource.TrimEnd('/');
        }

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Gateway:AgentOAuth:Resource is not set and the gateway listens on no address yet.");

        // A wildcard address (http://+:80) was refused at start (AgentOAuthSettingsValidation): this one names a host.
        return address.TrimEnd('/') + "/mcp";
    }
}
