using Gateway.Core.Catalog;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The accepted tool definitions as the catalog holds them: loaded before upstreams connect (so a changed tool is never
/// offered, not even for a moment at startup), re-read when the database changed (pins accepted on another instance), by
/// the same mechanism as agents, policies and servers.
/// </summary>
internal sealed class ToolPinReloader(IToolPinStore store, UpstreamManager upstreams, IDatabaseChanges changes, IOptions<GatewayOptions> options, ILogger<ToolPinReloader> logger)
    : SnapshotReloader(changes, logger)
{
    /// <summary>
    /// Rebuilds the catalog only when the stored pins differ from those it was built with. A review pinning first uses
    /// and an admin's acceptance may reload at the same time as a change signal: the base runs them in turn.
    /// </summary>
    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        var mode = options.Value.Upstreams.ToolPinning;
        var stored = await store.ListAsync(cancellationToken);
        var rejections = await store.ListRejectionsAsync(cancellationToken);
        var current = upstreams.Catalog.Pins;
        if (!current.SameAs(stored) || !current.SameRejectionsAs(rejections) || current.Mode != mode)
        {
            upstreams.SetPins(new ToolPinSet(stored, mode, rejections));
        }
    }
}
