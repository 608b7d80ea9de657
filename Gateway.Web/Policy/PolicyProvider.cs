using Gateway.Core.Policy;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Policy;

/// <summary>
/// Holds the compiled policy snapshot and the admin's tool classifications. Rebuilt at once after a change through
/// the API, and re-read when the database changed (another instance's change): a rule added or a class changed applies
/// from the next call, also on open sessions.
/// </summary>
internal sealed class PolicyProvider(
    IPolicyStore store,
    UpstreamManager upstreams,
    IConfiguration configuration,
    IDatabaseChanges changes,
    ILogger<PolicyProvider> logger) : SnapshotReloader(changes, logger), IPolicySource
{
    private volatile PolicyEngine _current = PolicyEngine.Empty;
    private string _fingerprint = string.Empty;

    public PolicyEngine Current => _current;

    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        var rules = await store.ListAsync(cancellationToken);
        var overrides = await store.ListClassOverridesAsync(cancellationToken);
        var fingerprint = string.Join('\n', rules.Select(r => System.Text.Json.JsonSerializer.Serialize(PolicyRuleDocument.From(r))))
            + "\n#" + string.Join(',', overrides.OrderBy(o => o.Key.Server).ThenBy(o => o.Key.Tool).Select(o => $"{o.Key.Server}/{o.Key.Tool}={o.Value}"));
        if (fingerprint == _fingerprint)
        {
            return;
        }

        _fingerprint = fingerprint;
        _current = new PolicyEngine(rules, Defaults());
        upstreams.SetClassOverrides(overrides);
    }

    /// <summary>The effect when no rule matches, per class: <c>Gateway:Policy:Defaults:{Read,Write,Destructive}</c>.</summary>
    private PolicyDefaults Defaults()
    {
        var shipped = PolicyDefaults.Shipped;
        PolicyEffect Read(string key, PolicyEffect fallback) =>
            PolicyEffects.TryParse(configuration[$"Gateway:Policy:Defaults:{key}"], out var e) ? e : fallback;
        return new PolicyDefaults(Read("Read", shipped.Read), Read("Write", shipped.Write), Read("Destructive", shipped.Destructive));
    }
}
