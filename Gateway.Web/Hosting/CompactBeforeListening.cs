using System.Runtime;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Hosting;

/// <summary>
/// The server, listening only after one full, compacting collection that gives the start's garbage back to the system
/// (<c>Gateway:Memory:CompactAtStart</c>).
/// </summary>
/// <remarks>
/// A start leaves garbage behind (provisioning, EF Core's first queries, Data Protection's key ring, the upstreams'
/// handshakes), and an idle gateway allocates too little to be collected again soon: the runtime sizes the young
/// generation from the CPU's cache, so that memory stays resident for as long as the gateway idles. One aggressive
/// collection at the one moment no request can be running (right before the port opens, after the upstreams' wait)
/// returns it. It stops every thread of the process for its pause, which is why a process that hosts other work (the
/// tests host many gateways in one) turns it off.
/// </remarks>
internal sealed partial class CompactBeforeListening(IServer server, IOptions<GatewayOptions> options, TimeProvider time, ILogger<CompactBeforeListening> logger) : IServer
{
    public IFeatureCollection Features => server.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        if (options.Value.Memory.CompactAtStart)
        {
            Compact();
        }

        return server.StartAsync(application, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);

    public void Dispose() => server.Dispose();

    private void Compact()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        var started = time.GetTimestamp();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        Compacted(logger, heap / 1024, after.HeapSizeBytes / 1024, after.TotalCommittedBytes / 1024, time.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start's garbage collected before listening: heap {BeforeKiB} KiB before, {AfterKiB} KiB after, {CommittedKiB} KiB committed, {PauseMs:0.0} ms")]
    private static partial void Compacted(ILogger logger, long beforeKiB, long afterKiB, long committedKiB, double pauseMs);
}
