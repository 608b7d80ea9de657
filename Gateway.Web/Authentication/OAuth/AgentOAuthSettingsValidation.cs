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

        if (!IsHttpUrl(settings.Issuer))
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

        if (settings.ClockSkew < TimeSpan.Zero || settings.ClockSkew > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:ClockSkew must be between 0 and 5 minutes.");
        }

        return settings;
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
