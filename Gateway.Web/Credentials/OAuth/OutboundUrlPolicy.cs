using System.Net;
using System.Net.Sockets;
using Gateway.Web.Hosting;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// Guards the gateway's requests to OAuth endpoints against server-side request forgery: HTTPS only, and no
/// loopback, private or link-local destination, unless <see cref="OAuthOptions"/> allows them. The address check runs
/// in the socket's connect callback, on the address actually dialled, so a DNS answer cannot change between the check
/// and the connection, and alternative spellings of an address (octal, IPv4-mapped IPv6) are already resolved.
/// </summary>
internal sealed class OutboundUrlPolicy(OAuthOptions options)
{
    /// <summary>Throws when <paramref name="url"/> may not be requested (scheme); the address is checked at connect time.</summary>
    public Uri Check(string url, string what)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new OAuthException($"The {what} '{url}' is not an absolute http(s) URL.");
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !options.AllowHttp)
        {
            throw new OAuthException($"The {what} '{url}' is not HTTPS (set Gateway:OAuth:AllowHttp to allow plain http).");
        }

        return uri;
    }

    /// <summary>A handler whose connections refuse forbidden addresses; no redirects (each hop would need checking) and no cookies.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = ConnectAsync,
    };

    /// <summary>Whether an address is loopback, private, link-local, shared (100.64/10), multicast, reserved or otherwise not a public destination.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // fc00::/7 unique local; link-local and site-local by the framework's own tests.
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (address.GetAddressBytes()[0] & 0xFE) == 0xFC;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10
            || b[0] == 0
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127)
            || b[0] >= 224;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = options.AllowPrivateAddresses ? addresses : [.. addresses.Where(a => !IsPrivate(a))];
        if (allowed.Length == 0)
        {
            throw new OAuthException($"'{context.DnsEndPoint.Host}' resolves only to loopback, private or link-local addresses (set Gateway:OAuth:AllowPrivateAddresses to allow them).");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
