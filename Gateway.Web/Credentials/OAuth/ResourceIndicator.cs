namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// The resource indicator (RFC 8707) the gateway asks upstream tokens for: the upstream's URL without its query, fragment
/// or user info. An upstream URL may carry a secret in its query (<c>?api_key=…</c>, encrypted at rest like any other
/// credential); as the <c>resource</c> it would go to a third party, the authorization server, and through the admin's
/// browser in the authorization request. RFC 8707 2: the indicator must not have a fragment and should not have a query.
/// </summary>
internal static class ResourceIndicator
{
    /// <summary>The indicator of <paramref name="upstreamUrl"/>: the URL as typed when it has no query, fragment or user info.</summary>
    public static string Of(string upstreamUrl)
    {
        var uri = new Uri(upstreamUrl, UriKind.Absolute);
        return uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? upstreamUrl
            : uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }

    /// <summary>
    /// Whether protected resource metadata that declares <paramref name="declared"/> is about <paramref name="upstreamUrl"/>
    /// (RFC 9728 3.3): its indicator, or the whole URL when the upstream publishes its query itself (then it is no secret).
    /// </summary>
    public static bool Names(string declared, string upstreamUrl) =>
        Same(declared, Of(upstreamUrl)) || Same(declared, upstreamUrl);

    private static bool Same(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);
}
