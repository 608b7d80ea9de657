using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.Agents;

/// <summary>
/// Holds the current <see cref="AgentDirectory"/>. Rebuilt at once after a local change (API) and re-read when the
/// database changed (the change watch looks every <c>Gateway:Database:ChangePollInterval</c> on SQLite), so a revoked key
/// or a disabled agent is refused within a second everywhere, also on sessions that are already open.
/// </summary>
internal sealed class AgentDirectoryProvider(
    IAgentStore store,
    IDatabaseChanges changes,
    ILogger<AgentDirectoryProvider> logger) : SnapshotReloader(changes, logger)
{
    private volatile AgentDirectory _current = AgentDirectory.Empty;

    /// <summary>Gets the current snapshot.</summary>
    public AgentDirectory Current => _current;

    /// <summary>Raised after the snapshot changed (grants may differ: sessions re-check their tool views).</summary>
    public event Action? Changed;

    /// <summary>Re-reads agents from the database and swaps the snapshot.</summary>
    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        var agents = await store.LoadCredentialsAsync(cancellationToken);
        var next = new AgentDirectory(agents.Select(a =>
            (new AgentIdentity(a.Agent.Id, a.Agent.Name, GrantSet.Parse(a.Agent.Grants, new List<string>())) { Tags = a.Agent.Tags, Limits = a.Agent.Limits, Discovery = a.Agent.Discovery }, (IEnumerable<string>)a.ActiveKeyHashes)));
        var fingerprint = Fingerprint(agents);
        if (fingerprint != _fingerprint)
        {
            _fingerprint = fingerprint;
            _current = next;
            Changed?.Invoke();
        }
    }

    private string _fingerprint = string.Empty;

    private static string Fingerprint(IReadOnlyList<AgentCredentials> agents) =>
        string.Join('\n', agents.Select(a => $"{a.Agent.Id}|{a.Agent.Name}|{string.Join(',', a.Agent.Grants)}|{string.Join(',', a.Agent.Tags)}|{a.Agent.Limits}|{a.Agent.Discovery}|{string.Join(',', a.ActiveKeyHashes)}"));
}
