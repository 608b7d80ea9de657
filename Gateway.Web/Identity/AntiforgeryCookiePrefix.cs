using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Identity;

/// <summary>
/// Gives the antiforgery cookie the <c>__Host-</c> prefix on requests that came over HTTPS, as
/// <see cref="ConsoleCookieManager"/> does for the console cookie: a browser then takes it only Secure, with Path=/ and
/// no Domain, so a page of a sibling subdomain or a plain-http response cannot plant a token pair of its own (cookie
/// tossing, e.g. to sign a victim's browser in as the attacker). Antiforgery names its cookie once for every request and
/// writes it through <see cref="HttpResponse.Cookies"/>, so the name is mapped here, in the request's cookie features:
/// the plain name reads the prefixed cookie (a cookie under the plain name is not read over HTTPS), and a cookie written
/// under the plain name goes out prefixed. Over plain http (a laptop's loopback) nothing changes.
/// </summary>
internal sealed class AntiforgeryCookiePrefix(RequestDelegate next, IOptions<AntiforgeryOptions> options)
{
    /// <summary>The antiforgery cookie's name (the console sets it; ASP.NET Core's default has a hash of the app's name in it).</summary>
    public const string CookieName = "mcpgw.antiforgery";

    private readonly Names _names = new(options.Value.Cookie.Name ?? CookieName, ConsoleCookieManager.HostPrefix + (options.Value.Cookie.Name ?? CookieName));

    public Task InvokeAsync(HttpContext context)
    {
        // Not on /mcp: agents' requests carry no antiforgery token, and each tool call would pay for the wrappers.
        if (context.Request.IsHttps && !context.Request.Path.StartsWithSegments("/mcp"))
        {
            var names = _names;
            var requestCookies = context.Features.Get<IRequestCookiesFeature>() ?? new RequestCookiesFeature(context.Features);
            context.Features.Set<IRequestCookiesFeature>(new PrefixedRequestCookiesFeature(requestCookies, names));
            var responseCookies = context.Features.Get<IResponseCookiesFeature>() ?? new ResponseCookiesFeature(context.Features);
            context.Features.Set<IResponseCookiesFeature>(new PrefixedResponseCookiesFeature(responseCookies, names));
        }

        return next(context);
    }

    private sealed record Names(string Plain, string Prefixed);

    private sealed class PrefixedRequestCookiesFeature(IRequestCookiesFeature inner, Names names) : IRequestCookiesFeature
    {
        private IRequestCookieCollection? _wrapped;
        private PrefixedRequestCookies? _cookies;

        public IRequestCookieCollection Cookies
        {
            get
            {
                var cookies = inner.Cookies;
                if (!ReferenceEquals(cookies, _wrapped))
                {
                    (_wrapped, _cookies) = (cookies, new PrefixedRequestCookies(cookies, names));
                }

                return _cookies!;
            }

            set => inner.Cookies = value;
        }
    }

    /// <summary>The request's cookies with the prefixed antiforgery cookie under the plain name, and the plain one hidden.</summary>
    private sealed class PrefixedRequestCookies(IRequestCookieCollection inner, Names names) : IRequestCookieCollection
    {
        public int Count => Enumerable.Count(this);

        public ICollection<string> Keys => [.. this.Select(c => c.Key)];

        public string? this[string key] => TryGetValue(key, out var value) ? value : null;

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
        {
            if (Is(key, names.Plain))
            {
                return inner.TryGetValue(names.Prefixed, out value);
            }

            if (Is(key, names.Prefixed))
            {
                value = null;
                return false;
            }

            return inner.TryGetValue(key, out value);
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            foreach (var cookie in inner)
            {
                if (Is(cookie.Key, names.Prefixed))
                {
                    yield return new(names.Plain, cookie.Value);
                }
                else if (!Is(cookie.Key, names.Plain))
                {
                    yield return cookie;
                }
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        // The collection the server parses compares names without case; so does this one.
        private static bool Is(string key, string name) => string.Equals(key, name, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class PrefixedResponseCookiesFeature(IResponseCookiesFeature inner, Names names) : IResponseCookiesFeature
    {
        private PrefixedResponseCookies? _cookies;

        public IResponseCookies Cookies => _cookies ??= new PrefixedResponseCookies(inner.Cookies, names);
    }

    /// <summary>Writes the antiforgery cookie under the prefixed name, Secure, Path=/ and without a Domain; every other cookie as it is.</summary>
    private sealed class PrefixedResponseCookies(IResponseCookies inner, Names names) : IResponseCookies
    {
        public void Append(string key, string value) => Append(key, value, new CookieOptions());

        public void Append(string key, string value, CookieOptions options)
        {
            if (IsPlain(key))
            {
                inner.Append(names.Prefixed, value, Prefixed(options));
            }
            else
            {
                inner.Append(key, value, options);
            }
        }

        public void Append(ReadOnlySpan<KeyValuePair<string, string>> keyValuePairs, CookieOptions options)
        {
            foreach (var (key, value) in keyValuePairs)
            {
                Append(key, value, options);
            }
        }

        public void Delete(string key) => Delete(key, new CookieOptions());

        public void Delete(string key, CookieOptions options)
        {
            if (IsPlain(key))
            {
                inner.Delete(names.Prefixed, Prefixed(options));
            }
            else
            {
                inner.Delete(key, options);
            }
        }

        private bool IsPlain(string key) => string.Equals(key, names.Plain, StringComparison.Ordinal);

        private static CookieOptions Prefixed(CookieOptions options) => new(options) { Secure = true, Path = "/", Domain = null };
    }
}
