using Gateway.Core.Servers;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Keeps this instance's upstream pool in line with the servers table when another instance (or the console of
/// another instance) adds, changes, disables or deletes a server: re-read on a database change, never per call.
/// </summary>
internal sealed class ServerReloader(IServerStore store, UpstreamManager upstreams, IDatabaseChanges changes, ILogger<ServerReloader> logger)
    : SnapshotReloader(changes, logger)
{
    // In turn with the local changes of ServerRegistry: the store is read after a local change has been applied, never
    // between its write and its apply (which would restart the server twice).
    protected override Task ReloadCoreAsync(CancellationToken cancellationToken) =>
        upstreams.SerializeAsync(async () =>
        {
            await upstreams.SyncAsync(await store.ListAsync(cancellationToken));
            return true;
        }, cancellationToken);
}
