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

        if (settings.ClockSkew < TimeSpan.Zero || settings.ClockSkew > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Gateway:AgentOAuth:ClockSkew must be between 0 and 5 minutes.");
        }

        return settings;
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
