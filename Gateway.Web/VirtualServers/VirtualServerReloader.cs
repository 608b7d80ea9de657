using Gateway.Core.VirtualServers;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.VirtualServers;

/// <summary>
/// Puts the stored virtual servers in force: loaded before the gateway serves, at once after a change through the API or
/// the console, and when the database changed (another instance's change).
/// </summary>
internal sealed class VirtualServerReloader(IVirtualServerStore store, VirtualServerDirectory directory, IDatabaseChanges changes, ILogger<VirtualServerReloader> logger)
    : SnapshotReloader(changes, logger)
{
    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken) =>
        directory.UseStored(await store.ListAsync(cancellationToken));
}
