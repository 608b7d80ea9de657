using System.Text.Json;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>What the gateway uses of an authorization server's metadata (RFC 8414).</summary>
internal sealed record AuthorizationServerMetadata(
    string Issuer,
    string TokenEndpoint,
    string? AuthorizationEndpoint,
    IReadOnlyList<string> CodeChallengeMethods,
    bool IssParameterSupported);

/// <summary>
/// Finds an upstream's authorization server: the upstream's protected resource metadata (RFC 9728) names it, and its
/// metadata (RFC 8414, then OpenID Connect discovery) names its endpoints. The upstream's own URL was typed by the
/// admin and is trusted; every URL learned from metadata is not, and goes through <see cref="OutboundUrlPolicy"/>
/// (HTTPS, no private or link-local address).
/// </summary>
internal sealed class AuthorizationServerDiscovery(HttpClient upstreamHttp, HttpClient guardedHttp, OutboundUrlPolicy policy)
{
    /// <summary>The token endpoint of the upstream's authorization server.</summary>
    public async Task<string> FindTokenEndpointAsync(string server, string upstreamUrl, CancellationToken cancellationToken) =>
        (await FindAsync(server, upstreamUrl, cancellationToken)).TokenEndpoint;

    /// <summary>The metadata of the authorization server the upstream's protected resource metadata names.</summary>
    public async Task<AuthorizationServerMetadata> FindAsync(string server, string upstreamUrl, CancellationToken cancellationToken)
    {
        var resource = new Uri(upstreamUrl);
        var metadataUrl = new Uri(resource, "/.well-known/oauth-protected-resource" + resource.AbsolutePath.TrimEnd('/'));
        using var resourceMetadata = await GetJsonAsync(upstreamHttp, metadataUrl, $"protected resource metadata of '{server}'", cancellationToken);

        // RFC 9728 3.3: the metadata must be about this very resource, or it may be someone else's.
        if (OAuthJson.String(resourceMetadata.RootElement, "resource") is { } declaredResource
            && !ResourceIndicator.Names(declaredResource, upstreamUrl))
        {
            throw new OAuthException($"The protected resource metadata of '{server}' is for '{declaredResource}', not '{Gateway.Core.Servers.SecretParts.MaskUrl(upstreamUrl)}'.");
        }

        if (!resourceMetadata.RootElement.TryGetProperty("authorization_servers", out var servers)
            || servers.ValueKind != JsonValueKind.Array || servers.GetArrayLength() == 0 || servers[0].ValueKind != JsonValueKind.String || servers[0].GetString() is not { } issuer)
        {
            throw new OAuthException($"The protected resource metadata of '{server}' names no authorization server.");
        }

        return await ReadAsync(server, issuer, cancellationToken);
    }

    /// <summary>The metadata of the authorization server <paramref name="issuer"/>, checked to be about that issuer.</summary>
    public async Task<AuthorizationServerMetadata> ReadAsync(string server, string issuer, CancellationToken cancellationToken)
    {
        var issuerUri = policy.Check(issuer, "authorization server");
        foreach (var wellKnown in new[] { "oauth-authorization-server", "openid-configuration" })
        {
            // RFC 8414 3.1: the well-known segment goes between the host and the issuer's path.
            var url = new Uri(issuerUri, $"/.well-known/{wellKnown}{issuerUri.AbsolutePath.TrimEnd('/')}");
            JsonDocument metadata;
            try
            {
                metadata = await GetJsonAsync(guardedHttp, url, $"authorization server metadata of '{server}'", cancellationToken);
            }
            catch (OAuthException) when (wellKnown == "oauth-authorization-server")
            {
                continue;
            }

            using (metadata)
            {
                var root = metadata.RootElement;

                // RFC 8414 3.3: a metadata document for another issuer must not be used (mix-up defence).
                if (OAuthJson.String(root, "issuer") is var stated && stated != issuer)
                {
                    throw new OAuthException($"The authorization server metadata of '{server}' names issuer '{Gateway.Core.Audit.AuditText.Cut(stated ?? "(none)")}', not '{issuer}'.");
                }

                if (OAuthJson.String(root, "token_endpoint") is not { } tokenEndpoint)
                {
                    throw new OAuthException($"The authorization server of '{server}' publishes no token endpoint.");
                }

                var authorization = OAuthJson.String(root, "authorization_endpoint") is { } authorizationEndpoint
                    ? policy.Check(authorizationEndpoint, "authorization endpoint learned from metadata").ToString()
                    : null;
                var methods = root.TryGetProperty("code_challenge_methods_supported", out var m) && m.ValueKind == JsonValueKind.Array
                    ? m.EnumerateArray().Take(32).Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() ?? string.Empty : string.Empty).ToList()
                    : [];
                var iss = root.TryGetProperty("authorization_response_iss_parameter_supported", out var i) && i.ValueKind == JsonValueKind.True;
                return new AuthorizationServerMetadata(issuer, policy.Check(tokenEndpoint, "token endpoint learned from metadata").ToString(), authorization, methods, iss);
            }
        }

        throw new OAuthException($"The authorization server of '{server}' publishes no metadata.");
    }

    // A server's URL may carry a secret (SecretParts): the reasons shown to the admin and logged mask it.
    private static string? Shown(Uri url) => Gateway.Core.Servers.SecretParts.MaskUrl(url.ToString());

    private static async Task<JsonDocument> GetJsonAsync(HttpClient http, Uri url, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new OAuthException($"The {what} at {Shown(url)} answered {(int)response.StatusCode}.");
            }

            return await OAuthJson.ReadAsync(response, $"the {what} at {Shown(url)}", cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException)
        {
            throw new OAuthException($"The {what} at {Shown(url)} could not be read: {ex.Message}", ex);
        }
    }
}
