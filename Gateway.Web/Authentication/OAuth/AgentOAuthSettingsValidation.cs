using Gateway.Web.Authentication.OAuth.Server;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>Reads <c>Gateway:AgentOAuth</c> and refuses to start on a setting that cannot work.</summary>
internal static class AgentOAuthSettingsValidation
{
    public static AgentOAuthSettings Read(IConfiguration configuration)
    {
        var settings = configuration.GetSection(AgentOAuthSettings.Section).Get<AgentOAuthSettings>() ?? new AgentOAuthSettings();
        if (!settings.IsEnabled)
        {
            return settings;
        }

        var server = settings.AuthorizationServer;
        if (server.Enabled && !string.IsNullOrWhiteSpace(settings.Issuer))
        {
            // One issuer per gateway: its own, or the enterprise IdP's (whose tokens agents then get from the IdP).
            throw new InvalidOperationException("Gateway:AgentOAuth: set either Issuer (tokens from an external IdP) or AuthorizationServer:Enabled (the gateway issues them), not both.");
        }

        if (server.Enabled)
        {
            ValidateAuthorizationServer(server);
        }
        else if (!IsHttpUrl(settings.Issuer))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:Issuer must be an absolute http(s) URL.");
        }

        if (settings.Resource is { Length: > 0 } resource && (!IsHttpUrl(resource) || resource.Contains('#', StringComparison.Ordinal) || resource.Contains('?', StringComparison.Ordinal)))
        {
            // RFC 8707 §2: a resource indicator is an absolute URI without a fragment (and, for us, without a query).
            throw new InvalidOperationException("Gateway:AgentOAuth:Resource must be an absolute http(s) URL without query or fragment, e.g. https://gateway.example.com/mcp.");
        }

        if (string.IsNullOrEmpty(settings.Resource) && ListensOnAWildcard(configuration) is { } wildcard)
        {
            // The resource URL is then taken from the listening address, and a wildcard names no host a client uses.
            throw new InvalidOperationException($"Gateway:AgentOAuth:Resource must be set: the gateway listens on {wildcard}, which names no host clients use.");
        }

        if (settings.Audiences.Count > AgentOAuthSettings.MaxAudiences
            || settings.Audiences.Any(a => string.IsNullOrWhiteSpace(a) || a.Length > 2048 || a.Any(char.IsWhiteSpace)))
        {
            throw new InvalidOperationException($"Gateway:AgentOAuth:Audiences holds at most {AgentOAuthSettings.MaxAudiences} audiences, each 1-2,048 characters without spaces (e.g. api://gateway or the application's client id).");
        }

        if (settings.ClockSkew < TimeSpan.Zero || settings.ClockSkew > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:ClockSkew must be between 0 and 5 minutes.");
        }

        return settings;
    }

    private static void ValidateAuthorizationServer(AuthorizationServerSettings server)
    {
        var badHost = server.ClientMetadataHosts.FirstOrDefault(h => Uri.CheckHostName(h) == UriHostNameType.Unknown);
        if (badHost is not null)
        {
            throw new InvalidOperationException($"Gateway:AgentOAuth:AuthorizationServer:ClientMetadataHosts: '{badHost}' is not a host name.");
        }

        if (server.MaxRegisteredClients is < 1 or > 1_000_000)
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:AuthorizationServer:MaxRegisteredClients must be between 1 and 1,000,000.");
        }

        if (server.RegistrationsPerMinute is < 1 or > 10_000 || server.RegistrationsPerMinuteTotal is < 1 or > 100_000)
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:AuthorizationServer:RegistrationsPerMinute must be between 1 and 10,000, and RegistrationsPerMinuteTotal between 1 and 100,000.");
        }

        if (server.ClientMetadataFetchesPerMinute is < 1 or > 10_000 || server.ClientMetadataFetchesPerMinuteTotal is < 1 or > 100_000)
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:AuthorizationServer:ClientMetadataFetchesPerMinute must be between 1 and 10,000, and ClientMetadataFetchesPerMinuteTotal between 1 and 100,000.");
        }

        if (server.AccessTokenLifetime < TimeSpan.FromMinutes(1) || server.AccessTokenLifetime > TimeSpan.FromDays(1))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:AuthorizationServer:AccessTokenLifetime must be between 1 minute and 1 day.");
        }

        if (server.RefreshTokenLifetime < server.AccessTokenLifetime || server.RefreshTokenLifetime > TimeSpan.FromDays(365))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:AuthorizationServer:RefreshTokenLifetime must be at least the access token's and at most 365 days.");
        }

        if (server.IdentityAssertionIssuers.Count > AuthorizationServerSettings.MaxIdentityAssertionIssuers
            || server.IdentityAssertionIssuers.Any(i => i.Length > AuthorizationServerSettings.MaxUrlLength || !IsHttpUrl(i))
            || server.IdentityAssertionIssuers.Distinct(StringComparer.Ordinal).Count() != server.IdentityAssertionIssuers.Count)
        {
            throw new InvalidOperationException($"Gateway:AgentOAuth:AuthorizationServer:IdentityAssertionIssuers holds at most {AuthorizationServerSettings.MaxIdentityAssertionIssuers} distinct issuers, each an absolute http(s) URL of at most {AuthorizationServerSettings.MaxUrlLength} characters.");
        }
    }

    private static string? ListensOnAWildcard(IConfiguration configuration)
    {
        var urls = (configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return urls.FirstOrDefault(url => url.Contains("://+", StringComparison.Ordinal) || url.Contains("://*", StringComparison.Ordinal)
            || url.Contains("://0.0.0.0", StringComparison.Ordinal) || url.Contains("://[::]", StringComparison.Ordinal));
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
