using Gateway.Core.Agents;
using Gateway.Core.Grants;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Maps an OAuth caller to the agent profile it acts as: the agent named after its client (else the default agent),
/// acting for the token's user, with the agent's grants narrowed by the user's groups and the client's scopes
/// (<see cref="AgentOAuthSettings.GroupGrants"/>, <see cref="AgentOAuthSettings.ScopeGrants"/>), parsed once at start.
/// </summary>
internal sealed class OAuthAgentMapping
{
    private readonly AgentOAuthSettings _settings;
    private readonly Dictionary<string, GrantSet> _groups;
    private readonly Dictionary<string, GrantSet> _scopes;

    public OAuthAgentMapping(AgentOAuthSettings settings)
    {
        _settings = settings;
        _groups = Parse(settings.GroupGrants, "GroupGrants");
        _scopes = Parse(settings.ScopeGrants, "ScopeGrants");
    }

    /// <summary>The agent for <paramref name="caller"/>, or <see langword="null"/> when no agent profile serves its client.</summary>
    public AgentIdentity? Map(AgentDirectory agents, OAuthCaller caller)
    {
        var agent = ProfileOf(agents, caller.ClientId);
        if (agent is null)
        {
            return null;
        }

        // One limit for both (a set narrowed by another allows what both allow), kept with the identity: what the caller
        // may use later (a session's list_changed, its bridges) is the profile's grants as they are then, narrowed by it.
        GrantSet? limit = null;
        if (_groups.Count > 0)
        {
            limit = GrantSet.Union(caller.Groups.Select(g => _groups.GetValueOrDefault(g, GrantSet.None)));
        }

        if (_scopes.Count > 0)
        {
            var scopes = GrantSet.Union(caller.Scopes.Select(s => _scopes.GetValueOrDefault(s, GrantSet.None)));
            limit = limit is null ? scopes : limit.Within(scopes);
        }

        var narrowed = agent with { User = caller.User, UserGroups = caller.Groups, UserLimit = limit };
        return narrowed with { Grants = narrowed.Under(agent.Grants) };
    }

    /// <summary>
    /// The agent profile a client's calls act as (before the user's groups and the token's scopes narrow it): the agent
    /// named after the client, else the default agent; <see langword="null"/> when neither exists (its calls are refused).
    /// </summary>
    public AgentIdentity? ProfileOf(AgentDirectory agents, string clientId) =>
        (clientId.Length > 0 ? agents.FindByName(clientId) : null)
        ?? (_settings.DefaultAgent is { Length: > 0 } fallback ? agents.FindByName(fallback) : null);

    private static Dictionary<string, GrantSet> Parse(Dictionary<string, List<string>> map, string name)
    {
        var errors = new List<string>();
        var parsed = map.ToDictionary(kv => kv.Key, kv => GrantSet.Parse(kv.Value, errors), StringComparer.Ordinal);
        return errors.Count == 0
            ? parsed
            : throw new InvalidOperationException($"Gateway:AgentOAuth:{name}: {string.Join(" ", errors)}");
    }
}
