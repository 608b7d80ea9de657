using Gateway.Core.Limits;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.Limits;

/// <summary>
/// Puts the stored per-tool rules in force: loaded before the gateway serves, at once after a change through the API or
/// the console, and when the database changed (another instance's change).
/// </summary>
internal sealed class ToolLimitRuleReloader(IToolLimitRuleStore store, CallLimiter limiter, IDatabaseChanges changes, ILogger<ToolLimitRuleReloader> logger)
    : SnapshotReloader(changes, logger)
{
    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken) =>
        limiter.UseStoredRules(await store.ListAsync(cancellationToken));
}
