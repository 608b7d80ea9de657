using Gateway.Core.Guardrails;

namespace Gateway.Core.Policy;

/// <summary>A decision and why: the rule that produced it, or <see langword="null"/> when the default applied.</summary>
public readonly record struct PolicyDecision(PolicyEffect Effect, string? Rule, string Reason)
{
    /// <summary>Gets the secrets mode a matching rule sets for this call's result, or <see langword="null"/> for the server's.</summary>
    public SecretMode? Secrets { get; init; }

    /// <summary>Gets the rule that set <see cref="Secrets"/>.</summary>
    public string? SecretsRule { get; init; }
}
