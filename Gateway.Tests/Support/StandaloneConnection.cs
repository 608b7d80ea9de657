using Gateway.Core.Servers;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Support;

/// <summary>
/// A connection to an HTTP upstream named <c>raw</c>, made and started outside the gateway's pool (with the gateway's
/// client factory): a test drives it directly, on the clock and options it chooses, and disposes it itself.
/// </summary>
internal static class StandaloneConnection
{
    public static UpstreamConnection Start(GatewayHost gateway, string url, TimeProvider time, UpstreamOptions options)
    {
        var definition = new ServerDefinition { Name = "raw", Transport = ServerTransport.Http, Url = url };
        var connection = new UpstreamConnection(
            new StoredServer(1, definition),
            gateway.Services.GetRequiredService<UpstreamClientFactory>(),
            options,
            time,
            NullLogger.Instance,
            () => { });
        connection.Start();
        return connection;
    }
}
