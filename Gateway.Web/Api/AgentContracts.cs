using Gateway.Core.Agents;

namespace Gateway.Web.Api;

/// <summary>An agent to create.</summary>
public sealed record CreateAgentRequest(string? Name, List<string>? Grants, List<string>? Tags = null, string? Owner = null);

/// <summary>A change to an agent; omitted fields stay as they are.</summary>
public sealed record UpdateAgentRequest(bool? Enabled, List<string>? Grants, List<string>? Tags = null);

/// <summary>An agent. Keys appear only as hints.</summary>
public sealed record AgentResponse(string Name, bool Enabled, bool ManagedByConfiguration, IReadOnlyList<string> Grants, IReadOnlyList<AgentKeyResponse> Keys, DateTimeOffset CreatedAt)
{
    /// <summary>Gets the agent's tags, matched by policy rules as <c>tag:name</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets the console user responsible for the agent (an approver may not approve its calls when self-approval is forbidden).</summary>
    public string? Owner { get; init; }
}

/// <summary>A key of an agent.</summary>
public sealed record AgentKeyResponse(long Id, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, bool Active);

/// <summary>A newly issued key: the only time the full key is ever shown.</summary>
public sealed record IssuedKeyResponse(AgentResponse Agent, string ApiKey, long KeyId);

internal static class AgentContractMapping
{
    public static AgentResponse ToResponse(this AgentRecord a) => new(
        a.Name,
        a.Enabled,
        a.ManagedByConfiguration,
        a.Grants,
        [.. a.Keys.Select(k => new AgentKeyResponse(k.Id, k.Hint, k.CreatedAt, k.RevokedAt, k.RevokedAt is null))],
        a.CreatedAt)
    {
        Tags = a.Tags,
        Owner = a.Owner,
    };
}
