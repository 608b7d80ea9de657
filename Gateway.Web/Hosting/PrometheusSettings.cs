namespace Gateway.Web.Hosting;

/// <summary>The <c>Telemetry:Prometheus</c> settings.</summary>
/// <param name="Enabled">Whether <c>/metrics</c> is served at all.</param>
/// <param name="Url">A listen address of its own (e.g. <c>http://0.0.0.0:9464</c>): <c>/metrics</c> is served there only, without a key, and nothing else is.</param>
/// <param name="BearerToken">Without <paramref name="Url"/>: a token a scraper may present instead of the admin (or auditor) key.</param>
internal sealed record PrometheusSettings(bool Enabled, Uri? Url, string? BearerToken)
{
    public const int MinTokenLength = 16;

    public static PrometheusSettings Read(IConfiguration section)
    {
        Uri? url = null;
        if (section["Url"] is { Length: > 0 } text
            && (!Uri.TryCreate(text, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https") || url.Port == 0 || url.AbsolutePath != "/"))
        {
            throw new InvalidOperationException($"Telemetry:Prometheus:Url must be an http(s) address with a port other than 0 and no path (e.g. http://0.0.0.0:9464), not '{text}'.");
        }

        var token = section["BearerToken"] is { Length: > 0 } t ? t : null;
        if (token is { Length: < MinTokenLength })
        {
            throw new InvalidOperationException($"Telemetry:Prometheus:BearerToken must be at least {MinTokenLength} characters.");
        }

        return new PrometheusSettings(section.GetValue("Enabled", false), url, token);
    }
}
