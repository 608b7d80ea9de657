using Gateway.Core.Agents;
using Gateway.Core.Limits;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to agents, their grants, tags and keys (keys by hint only), with before and after, committed
/// with the change (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AuditedAgentStore(IAgentStore inner, IAdminChangeTransactions changes) : IAgentStore
{
    public Task<IReadOnlyList<AgentRecord>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<(IReadOnlyList<AgentRecord> Items, int Total)> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken) =>
        inner.PageAsync(search, skip, take, cancellationToken);

    public Task<AgentRecord?> FindAsync(string name, CancellationToken cancellationToken) => inner.FindAsync(name, cancellationToken);

    public Task<IReadOnlyList<AgentCredentials>> LoadCredentialsAsync(CancellationToken cancellationToken) => inner.LoadCredentialsAsync(cancellationToken);

    public Task<AgentRecord?> CreateAsync(string name, IReadOnlyList<string> grants, string keyHash, string keyHint, CancellationToken cancellationToken, string? owner = null) =>
        changes.RunAsync(
            async entries =>
            {
                var created = await inner.CreateAsync(name, grants, keyHash, keyHint, cancellationToken, owner);
                if (created is not null)
                {
                    entries.Add("agent", name, "create", null, created);
                }

                return created;
            },
            cancellationToken);

    public Task<AgentRecord?> UpdateAsync(string name, bool? enabled, IReadOnlyList<string>? grants, CancellationToken cancellationToken, IReadOnlyList<string>? tags = null) =>
        ChangeAsync(name, "update", () => inner.UpdateAsync(name, enabled, grants, cancellationToken, tags), cancellationToken);

    public Task<AgentRecord?> SetLimitsAsync(string name, AgentLimits limits, CancellationToken cancellationToken) =>
        ChangeAsync(name, "limits", () => inner.SetLimitsAsync(name, limits, cancellationToken), cancellationToken);

    public Task<AgentRecord?> SetDiscoveryAsync(string name, VirtualServers.ToolDiscovery discovery, CancellationToken cancellationToken) =>
        ChangeAsync(name, "discovery", () => inner.SetDiscoveryAsync(name, discovery, cancellationToken), cancellationToken);

    public Task<AgentRecord?> SetOwnerAsync(string name, string? owner, CancellationToken cancellationToken) =>
        ChangeAsync(name, "owner", () => inner.SetOwnerAsync(name, owner, cancellationToken), cancellationToken);

    public Task<AgentKeyInfo?> AddKeyAsync(string name, string keyHash, string keyHint, bool revokeOthers, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var key = await inner.AddKeyAsync(name, keyHash, keyHint, revokeOthers, cancellationToken);
                if (key is not null)
                {
                    entries.Add("agent_key", name, revokeOthers ? "rotate" : "create", before?.Keys, await inner.FindAsync(name, cancellationToken) is { } after ? after.Keys : null);
                }

                return key;
            },
            cancellationToken);

    public Task<bool> RevokeKeyAsync(string name, long keyId, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var revoked = await inner.RevokeKeyAsync(name, keyId, cancellationToken);
                if (revoked)
                {
                    entries.Add("agent_key", name, "revoke", before?.Keys, await inner.FindAsync(name, cancellationToken) is { } after ? after.Keys : null);
                }

                return revoked;
            },
            cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var deleted = await inner.DeleteAsync(name, cancellationToken);
                if (deleted)
                {
                    entries.Add("agent", name, "delete", before, null);
                }

                return deleted;
            },
            cancellationToken);

    // An agent's change recorded as the agent before and after.
    private Task<AgentRecord?> ChangeAsync(string name, string action, Func<Task<AgentRecord?>> change, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var updated = await change();
                if (updated is not null)
                {
                    entries.Add("agent", name, action, before, updated);
                }

                return updated;
            },
            cancellationToken);
}
