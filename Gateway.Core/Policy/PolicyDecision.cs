namespace Gateway.Core.Policy;

/// <summary>A decision and why: the rule that produced it, or <see langword="null"/> when the default applied.</summary>
public readonly record struct PolicyDecision(PolicyEffect Effect, string? Rule, string Reason);
