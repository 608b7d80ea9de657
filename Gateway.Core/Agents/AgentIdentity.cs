using Gateway.Core.Grants;

namespace Gateway.Core.Agents;

/// <summary>An authenticated agent, as the hot path sees it: immutable, resolved from an in-memory snapshot.</summary>
public sealed record AgentIdentity(long Id, string Name, GrantSet Grants);
