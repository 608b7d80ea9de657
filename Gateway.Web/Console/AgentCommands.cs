using Gateway.Core.Agents;
using Gateway.Web.Agents;
using Gateway.Web.Validation;

namespace Gateway.Web.Console;

/// <summary>What the console does to agents, shared with nothing else so the page stays thin: every change reloads the directory at once.</summary>
internal sealed class AgentCommands(IAgentStore store, AgentDirectoryProvider directory)
{
    /// <summary>Validates and creates an agent; returns its key (shown once) or the errors by field.</summary>
    public async Task<(string? Key, Dictionary<string, string[]> Errors)> CreateAsync(string? name, IReadOnlyList<string> grants, IReadOnlyList<string> tags, CancellationToken cancellationToken, string? owner = null)
    {
        var errors = new AgentDefinitionValidator().Validate((name, grants)).ByField();
        foreach (var tag in tags.Where(t => !Gateway.Core.Names.IsValid(t)))
        {
            errors["tags"] = [$"'{tag}': {Gateway.Core.Names.Rule}"];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var key = ApiKeys.Generate();
        var agent = await store.CreateAsync(name!, grants, ApiKeys.Hash(key), ApiKeys.Hint(key), cancellationToken, owner);
        if (agent is null)
        {
            return (null, new Dictionary<string, string[]> { ["name"] = [$"An agent named '{name}' already exists."] });
        }

        if (tags.Count > 0)
        {
            await store.UpdateAsync(agent.Name, null, null, cancellationToken, tags);
        }

        await directory.ReloadAsync(cancellationToken);
        return (key, []);
    }

    /// <summary>Issues a new key (shown once) and revokes the others.</summary>
    public async Task<string?> RotateAsync(string name, CancellationToken cancellationToken)
    {
        var key = ApiKeys.Generate();
        var info = await store.AddKeyAsync(name, ApiKeys.Hash(key), ApiKeys.Hint(key), revokeOthers: true, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return info is null ? null : key;
    }

    /// <summary>Replaces an agent's grants; the errors by field when one is invalid (then nothing changes).</summary>
    public async Task<Dictionary<string, string[]>> SetGrantsAsync(string name, IReadOnlyList<string> grants, CancellationToken cancellationToken)
    {
        var errors = new AgentDefinitionValidator().Validate((name, grants)).ByField();
        if (errors.Count > 0)
        {
            return errors;
        }

        await store.UpdateAsync(name, null, grants, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
        return [];
    }

    public async Task SetEnabledAsync(string name, bool enabled, CancellationToken cancellationToken)
    {
        await store.UpdateAsync(name, enabled, null, cancellationToken);
        await directory.ReloadAsync(cancellationToken);
    }

    /// <summary>Revokes every active key: the agent is locked out at its next request until a key is issued again.</summary>
    public async Task<int> RevokeKeysAsync(string name, CancellationToken cancellationToken)
    {
        var agent = await store.FindAsync(name, cancellationToken);
        var revoked = 0;
        foreach (var key in agent?.Keys.Where(k => k.RevokedAt is null) ?? [])
        {
            revoked += await store.RevokeKeyAsync(name, key.Id, cancellationToken) ? 1 : 0;
        }

        await directory.ReloadAsync(cancellationToken);
        return revoked;
    }

    /// <summary>One page of agents, searched by name, and how many match.</summary>
    public Task<(IReadOnlyList<AgentRecord> Items, int Total)> PageAsync(string? search, int skip, int take, CancellationToken cancellationToken) =>
        store.PageAsync(search, skip, take, cancellationToken);
}
