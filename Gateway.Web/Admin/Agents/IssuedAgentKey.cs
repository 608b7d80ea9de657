using Gateway.Core.Agents;

namespace Gateway.Web.Admin.Agents;

/// <summary>A newly issued key with its agent: the only time the full key exists outside the agent's hands.</summary>
public sealed record IssuedAgentKey(AgentRecord Agent, string ApiKey, long KeyId);
