using ModelContextProtocol;
using ModelContextProtocol.Authentication;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The protected-resource metadata (RFC 9728) at the well-known address, in the plain and the path-suffixed
/// (<c>/mcp</c>) forms: clients try one then the other. Served from configuration, not derived from the request.
/// </summary>
/// <remarks>
/// The MCP SDK's <c>McpAuthenticationHandler</c> serves this document too, but it derives the resource from the
/// request's Host and its challenge cannot carry an RFC 6750 error; the gateway validates the audience against one
/// fixed resource URL, so it serves the SDK's <see cref="ProtectedResourceMetadata"/> type itself.
/// </remarks>
internal static class ProtectedResourceEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(ProtectedResource.MetadataPath, Metadata).AllowAnonymous();
        endpoints.MapGet(ProtectedResource.MetadataPath + "/mcp", Metadata).AllowAnonymous();
    }

    // A method group, so that the compile-time request delegate generator builds its endpoint (no expression tree at start).
    private static IResult Metadata(ProtectedResource resource, OAuthIssuer issuer, AgentOAuthSettings settings) => Results.Json(
        new ProtectedResourceMetadata
        {
            Resource = resource.Resource,
            AuthorizationServers = [issuer.Url],
            ScopesSupported = [.. settings.Scopes],
            BearerMethodsSupported = ["header"],
            DpopSigningAlgValuesSupported = [.. DPoPProofValidator.Algorithms],
            ResourceName = "MCP gateway",
        },
        McpJsonUtilities.DefaultOptions);
}
