using Gateway.Core.Agents;
using Gateway.Core.Limits;

namespace Gateway.Core.Audit.Admin;

/// <summary>Records every change to agents, their grants, tags and keys (keys by hint only), with before and after.</summary>
public sealed class AuditedAgentStore(IAgentStore inner, AdminChangeRecorder recorder) : IAgentStore
{
    public Task<IReadOnlyList<AgentRecord>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<(IReadOnlyList<AgentRecord> Items, int Total)> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken) =>
        inner.PageAsync(search, skip, take, cancellationToken);

    public Task<AgentRecord?> FindAsync(string name, CancellationToken cancellationToken) => inner.FindAsync(name, cancellationToken);

    public Task<IReadOnlyList<AgentCredentials>> LoadCredentialsAsync(CancellationToken cancellationToken) => inner.LoadCredentialsAsync(cancellationToken);

    public async Task<AgentRecord?> CreateAsync(string name, IReadOnlyList<string> grants, string keyHash, string keyHint, CancellationToken cancellationToken, string? owner = null)
    {
        var created = await inner.CreateAsync(name, grants, keyHash, keyHint, cancellationToken, owner);
        if (created is not null)
        {
            await recorder.RecordAsync("agent", name, "create", null, created);
        }

        return created;
    }

    public async Task<AgentRecord?> UpdateAsync(string name, bool? enabled, IReadOnlyList<string>? grants, CancellationToken cancellationToken, IReadOnlyList<string>? tags = null)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var updated = await inner.UpdateAsync(name, enabled, grants, cancellationToken, tags);
        if (updated is not null)
        {
            await recorder.RecordAsync("agent", name, "update", before, updated);
        }

        return updated;
    }

    public async Task<AgentRecord?> SetLimitsAsync(string name, AgentLimits limits, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var updated = await inner.SetLimitsAsync(name, limits, cancellationToken);
        if (updated is not null)
        {
            await recorder.RecordAsync("agent", name, "limits", before, updated);
        }

        return updated;
    }

    public async Task<AgentRecord?> SetDiscoveryAsync(string name, VirtualServers.ToolDiscovery discovery, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var updated = await inner.SetDiscoveryAsync(name, discovery, cancellationToken);
        if (updated is not null)
        {
            await recorder.RecordAsync("agent", name, "discovery", before, updated);
        }

        return updated;
    }

    public async Task<AgentRecord?> SetOwnerAsync(string name, string? owner, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var updated = await inner.SetOwnerAsync(name, owner, cancellationToken);
        if (updated is not null)
        {
            await recorder.RecordAsync("agent", name, "owner", before, updated);
        }

        return updated;
    }

    public async Task<AgentKeyInfo?> AddKeyAsync(string name, string keyHash, string keyHint, bool revokeOthers, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var key = await inner.AddKeyAsync(name, keyHash, keyHint, revokeOthers, cancellationToken);
        if (key is not null)
        {
            await recorder.RecordAsync("agent_key", name, revokeOthers ? "rotate" : "create", before?.Keys, await inner.FindAsync(name, cancellationToken) is { } after ? after.Keys : null);
        }

        return key;
    }

    public async Task<bool> RevokeKeyAsync(string name, long keyId, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var revoked = await inner.RevokeKeyAsync(name, keyId, cancellationToken);
        if (revoked)
        {
            await recorder.RecordAsync("agent_key", name, "revoke", before?.Keys, await inner.FindAsync(name, cancellationToken) is { } after ? after.Keys : null);
        }

        return revoked;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var deleted = await inner.DeleteAsync(name, cancellationToken);
        if (deleted)
        {
            await recorder.RecordAsync("agent", name, "delete", before, null);
        }

        return deleted;
    }
}
