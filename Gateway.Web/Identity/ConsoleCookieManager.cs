using Microsoft.AspNetCore.Authentication.Cookies;

namespace Gateway.Web.Identity;

/// <summary>
/// Names the console cookie <c>__Host-mcpgw.console</c> on requests that came over HTTPS. A browser takes a cookie with
/// that prefix only when it is Secure, has Path=/ and no Domain, so neither a page of a sibling subdomain nor a plain-http
/// response (an attacker on the network) can set or overwrite it: no cookie tossing into a signed-in admin's browser. Over
/// plain http, a laptop's loopback, a browser would refuse the prefix, so the plain name is used there; the two never mix,
/// as a browser keeps a Secure cookie from http pages. Chunks of a large cookie carry the same prefix.
/// </summary>
internal sealed class ConsoleCookieManager(ICookieManager inner) : ICookieManager
{
    /// <summary>The prefix a browser enforces Secure, Path=/ and no Domain for (RFC 6265bis, 4.1.3.2).</summary>
    public const string HostPrefix = "__Host-";

    public string? GetRequestCookie(HttpContext context, string key) => inner.GetRequestCookie(context, NameFor(context, key));

    public void AppendResponseCookie(HttpContext context, string key, string? value, CookieOptions options) =>
        inner.AppendResponseCookie(context, NameFor(context, key), value, OptionsFor(context, options));

    public void DeleteCookie(HttpContext context, string key, CookieOptions options) =>
        inner.DeleteCookie(context, NameFor(context, key), OptionsFor(context, options));

    /// <summary>The cookie's name on this request.</summary>
    private static string NameFor(HttpContext context, string key) => context.Request.IsHttps ? HostPrefix + key : key;

    private static CookieOptions OptionsFor(HttpContext context, CookieOptions options) =>
        context.Request.IsHttps ? new CookieOptions(options) { Secure = true, Path = "/", Domain = null } : options;
}
