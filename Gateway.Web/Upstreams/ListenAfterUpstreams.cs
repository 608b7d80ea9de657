using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The server, listening only once the upstreams <see cref="UpstreamManager"/> started connecting have answered (or
/// their bounded wait has passed), so the first agent finds their tools. The wait sits here, at the last moment before
/// the port opens, rather than in a hosted service: the host builds the request pipeline (endpoints, the console's
/// SignalR hub and its method invokers, about 0.3 s of CPU) after every hosted service has started, and a hosted
/// service that waited would put that work after the handshakes instead of beside them.
/// </summary>
internal sealed class ListenAfterUpstreams(IServer server, UpstreamManager upstreams) : IServer
{
    public IFeatureCollection Features => server.Features;

    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        await upstreams.WaitForStartupAsync(cancellationToken);
        await server.StartAsync(application, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);

    public void Dispose() => server.Dispose();
}
