using Gateway.Core.VirtualServers;
using Gateway.Core.Agents;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Identity;
using Gateway.Core.Limits;
using Gateway.Web.Agents;

namespace Gateway.Web.Admin.Agents;

/// <summary>
/// The one write path for agents, behind the admin API and the console: role check, validation, the
/// managed-by-configuration rule, the store write (audited under the caller) and the directory reload, so the next
/// request sees the change.
/// </summary>
internal sealed partial class AgentOperations(IAgentStore store, AgentDirectoryProvider directory, IConsoleUserStore users, IAdminActor actor, IAdminChangeTransactions transactions, ILogger<AgentOperations> logger)
{
    /// <summary>One page of agents, searched by name, and how many match.</summary>
    public async Task<AdminResult<(IReadOnlyList<AgentRecord> Items, int Total)>> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? AdminResult.Done(await store.PageAsync(search, skip, take, cancellationToken));
    }

    /// <summary>Every agent (configured ones marked as managed by configuration).</summary>
    public async Task<AdminResult<IReadOnlyList<AgentRecord>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? AdminResult.Done(await store.ListAsync(cancellationToken));
    }

    /// <summary>One agent with its keys (hints only).</summary>
    public async Task<AdminResult<AgentRecord>> GetAsync(string name, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? (await store.FindAsync(name, cancellationToken) is { } agent ? AdminResult.Done(agent) : NotFound(name));
    }

    /// <summary>Creates an agent with its first key (shown once).</summary>
    public async Task<AdminResult<IssuedAgentKey>> CreateAsync(AgentDraft draft, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        var owner = string.IsNullOrWhiteSpace(draft.Owner) ? null : draft.Owner.Trim();
        var errors = AgentValidation.Validate(draft.Name, creating: true, draft.Grants, draft.Tags, owner, draft.Limits, draft.Discovery);
        await CheckOwnerExistsAsync(owner, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return AdminResult.Invalid(errors, "The agent is invalid.");
        }

        using var audit = caller.Audit();
        var key = ApiKeys.Generate();

        // One admin change: the agent and its tags, limits and discovery commit together with their entries, or none.
        var agent = await transactions.RunAsync(
            async _ =>
            {
                var created = await store.CreateAsync(draft.Name!, draft.Grants ?? [], ApiKeys.Hash(key), ApiKeys.Hint(key), cancellationToken, owner);
                if (created is null)
                {
                    return null;
                }

                if (draft.Tags is { Count: > 0 } tags)
                {
                    created = await store.UpdateAsync(created.Name, null, null, cancellationToken, tags) ?? created;
                }

                if (draft.Limits is { IsInherited: false } limits)
                {
                    created = await store.SetLimitsAsync(created.Name, limits, cancellationToken) ?? created;
                }

                if (ToolDiscoveries.Parse(draft.Discovery) is ToolDiscovery.Search)
                {
                    created = await store.SetDiscoveryAsync(created.Name, ToolDiscovery.Search, cancellationToken) ?? created;
                }

                return created;
            },
            cancellationToken);
        if (agent is null)
        {
            return AdminResult.Conflict($"An agent named '{draft.Name}' already exists.");
        }

        await ReloadCommittedAsync(cancellationToken);
        return AdminResult.Done(new IssuedAgentKey(agent, key, agent.Keys[0].Id));
    }

    /// <summary>Enables or disables an agent, or replaces its grants, tags or limits.</summary>
    public async Task<AdminResult<AgentRecord>> UpdateAsync(string name, AgentChange change, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var owner = change.Owner?.Trim();
        var errors = AgentValidation.Validate(name, creating: false, change.Grants, change.Tags, owner, change.Limits, change.Discovery);
        await CheckOwnerExistsAsync(owner, errors, cancellationToken);

        if (errors.Count > 0)
        {
            return AdminResult.Invalid(errors, "The change is invalid.");
        }

        using var audit = caller.Audit();

        // One admin change: every part of it commits together with its entries, or none.
        var updated = await transactions.RunAsync(
            async _ =>
            {
                var agent = change is { Enabled: null, Grants: null, Tags: null }
                    ? await store.FindAsync(name, cancellationToken)
                    : await store.UpdateAsync(name, change.Enabled, change.Grants, cancellationToken, change.Tags);
                if (agent is not null && change.Limits is { } limits)
                {
                    agent = await store.SetLimitsAsync(name, limits.IsInherited ? AgentLimits.Inherit : limits, cancellationToken) ?? agent;
                }

                if (agent is not null && owner is not null && owner != (agent.Owner ?? string.Empty))
                {
                    agent = await store.SetOwnerAsync(name, owner.Length == 0 ? null : owner, cancellationToken) ?? agent;
                }

                if (agent is not null && change.Discovery is not null && ToolDiscoveries.Parse(change.Discovery) is { } discovery && discovery != agent.Discovery)
                {
                    agent = await store.SetDiscoveryAsync(name, discovery, cancellationToken) ?? agent;
                }

                return agent;
            },
            cancellationToken);

        await directory.ReloadAsync(cancellationToken);
        return updated is null ? NotFound(name) : AdminResult.Done(updated);
    }

    /// <summary>Issues a new key (shown once) and revokes the others.</summary>
    public async Task<AdminResult<IssuedAgentKey>> RotateKeyAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var key = ApiKeys.Generate();

        // The agent as it is with its new key is read in the change's transaction: once the old keys are revoked, the
        // new one must reach the caller, whatever happens after the commit.
        var (info, agent) = await transactions.RunAsync(
            async _ =>
            {
                var added = await store.AddKeyAsync(name, ApiKeys.Hash(key), ApiKeys.Hint(key), revokeOthers: true, cancellationToken);
                return (added, added is null ? null : await store.FindAsync(name, cancellationToken));
            },
            cancellationToken);
        await ReloadCommittedAsync(cancellationToken);
        return info is null || agent is null ? NotFound(name) : AdminResult.Done(new IssuedAgentKey(agent, key, info.Id));
    }

    /// <summary>Revokes one key; the agent holding it is refused at its next request.</summary>
    public async Task<AdminResult> RevokeKeyAsync(string name, long keyId, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var revoked = await store.RevokeKeyAsync(name, keyId, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return revoked ? AdminResult.Done() : AdminResult.NotFound($"Agent '{name}' has no key {keyId}.");
    }

    /// <summary>Revokes every active key: the agent is locked out until a key is issued again. Yields how many were revoked.</summary>
    public async Task<AdminResult<int>> RevokeKeysAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        // After a leak: every key or none (one transaction), never the first few with the rest still working.
        var revoked = await transactions.RunAsync(
            async _ =>
            {
                var agent = await store.FindAsync(name, cancellationToken);
                var count = 0;
                foreach (var key in agent?.Keys.Where(k => k.RevokedAt is null) ?? [])
                {
                    count += await store.RevokeKeyAsync(name, key.Id, cancellationToken) ? 1 : 0;
                }

                return count;
            },
            cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return AdminResult.Done(revoked);
    }

    /// <summary>Deletes an agent and its keys.</summary>
    public async Task<AdminResult> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var deleted = await store.DeleteAsync(name, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return deleted ? AdminResult.Done() : NotFound(name);
    }

    /// <summary>The caller, or what stops the change: the role, an unknown agent, or configuration owning it.</summary>
    private async Task<(AdminCaller Caller, AdminResult? Refusal)> EditableAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return (caller, refusal);
        }

        var existing = await store.FindAsync(name, cancellationToken);
        return existing is null ? (caller, NotFound(name))
            : existing.ManagedByConfiguration ? (caller, AdminResult.Managed($"Agent '{name}' is managed by configuration; change it in the configuration file."))
            : (caller, null);
    }

    private static AdminResult NotFound(string name) => AdminResult.NotFound($"No agent named '{name}'.");

    /// <summary>
    /// The owner decides whether its approver may approve the agent's calls, on creation as on a change: a typo (or a
    /// name a user created later would inherit the agent under) must not slip through.
    /// </summary>
    private async Task CheckOwnerExistsAsync(string? owner, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (owner is { Length: > 0 } && !errors.ContainsKey("owner") && await users.FindAsync(owner, cancellationToken) is null)
        {
            errors["owner"] = [$"No console user named '{owner}'; the owner is an existing user, or empty for none."];
        }
    }

    /// <summary>
    /// Reloads the directory after a committed change that issued a key: the key is shown once, so a failing read now
    /// must not lose it (the change watch reloads the directory as soon as the database answers).
    /// </summary>
    private async Task ReloadCommittedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await directory.ReloadAsync(cancellationToken);
        }
        catch (Exception ex) when (Gateway.Web.Mcp.DatabaseUnavailableGuard.IsDatabaseFailure(ex))
        {
            LogReloadFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A key was issued, but reloading the agents after it failed ({Reason}); the change watch reloads them.")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
