using Gateway.Core.Agents;
using Gateway.Core.Limits;

namespace Gateway.Web.Api;

/// <summary>An agent to create.</summary>
/// <param name="Discovery">How it discovers its tools on <c>/mcp</c>: <c>list</c> (the default) or <c>search</c>.</param>
public sealed record CreateAgentRequest(string? Name, List<string>? Grants, List<string>? Tags = null, string? Owner = null, AgentLimitsContract? Limits = null, string? Discovery = null);

/// <summary>A change to an agent; omitted fields stay as they are.</summary>
/// <param name="Owner">The console user responsible for the agent (an existing user), or "" for none.</param>
/// <param name="Discovery">How it discovers its tools on <c>/mcp</c>: <c>list</c> or <c>search</c>.</param>
public sealed record UpdateAgentRequest(bool? Enabled, List<string>? Grants, List<string>? Tags = null, AgentLimitsContract? Limits = null, string? Owner = null, string? Discovery = null);

/// <summary>An agent's own limits: each <see langword="null"/> (the gateway default), 0 (unlimited) or a positive count. Given whole: it replaces all three.</summary>
/// <param name="RequestsPerMinute">Tool calls started per UTC minute.</param>
/// <param name="MaxConcurrent">Tool calls in flight at once.</param>
/// <param name="DailyQuota">Tool calls started per UTC day.</param>
public sealed record AgentLimitsContract(int? RequestsPerMinute, int? MaxConcurrent, int? DailyQuota)
{
    internal AgentLimits ToLimits() => new(RequestsPerMinute, MaxConcurrent, DailyQuota);

    internal static AgentLimitsContract From(AgentLimits l) => new(l.RequestsPerMinute, l.MaxConcurrent, l.DailyQuota);
}

/// <summary>An agent's usage on the instance that answers, and the limits in force (defaults resolved; 0 is unlimited).</summary>
/// <param name="ThisMinute">Tool calls started in the current UTC minute.</param>
/// <param name="InFlight">Tool calls in flight now.</param>
/// <param name="Today">Tool calls started today (UTC).</param>
/// <param name="Effective">The limits that apply.</param>
public sealed record AgentUsageResponse(int ThisMinute, int InFlight, int Today, AgentLimitsContract Effective);

/// <summary>An agent. Keys appear only as hints.</summary>
public sealed record AgentResponse(string Name, bool Enabled, bool ManagedByConfiguration, IReadOnlyList<string> Grants, IReadOnlyList<AgentKeyResponse> Keys, DateTimeOffset CreatedAt)
{
    /// <summary>Gets the agent's tags, matched by policy rules as <c>tag:name</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets the console user responsible for the agent (an approver may not approve its calls when self-approval is forbidden).</summary>
    public string? Owner { get; init; }

    /// <summary>Gets the agent's own limits (null fields take the gateway defaults).</summary>
    public AgentLimitsContract Limits { get; init; } = new(null, null, null);

    /// <summary>Gets how the agent discovers its tools on <c>/mcp</c>: <c>list</c> or <c>search</c>.</summary>
    public string Discovery { get; init; } = "list";

    /// <summary>Gets the agent's current usage and the limits in force, counted on the instance that answers.</summary>
    public AgentUsageResponse? Usage { get; init; }
}

/// <summary>A key of an agent.</summary>
public sealed record AgentKeyResponse(long Id, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, bool Active);

/// <summary>A newly issued key: the only time the full key is ever shown.</summary>
public sealed record IssuedKeyResponse(AgentResponse Agent, string ApiKey, long KeyId);

internal static class AgentContractMapping
{
    public static AgentResponse ToResponse(this AgentRecord a, CallLimiter limiter) => a.ToResponse() with { Usage = UsageOf(a, limiter) };

    public static AgentUsageResponse UsageOf(AgentRecord a, CallLimiter limiter)
    {
        var usage = limiter.Usage(a.Id);
        var effective = a.Limits.Resolve(limiter.Defaults);
        return new AgentUsageResponse(usage.ThisMinute, usage.InFlight, usage.Today, new AgentLimitsContract(effective.RequestsPerMinute, effective.MaxConcurrent, effective.DailyQuota));
    }

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
        Limits = AgentLimitsContract.From(a.Limits),
        Discovery = Gateway.Core.VirtualServers.ToolDiscoveries.Name(a.Discovery),
    };
}
