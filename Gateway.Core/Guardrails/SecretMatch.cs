namespace Gateway.Core.Guardrails;

/// <summary>A secret found in a text: where it is (the part to hide) and its kind (<c>aws-access-key</c>, without the <c>secret.</c> prefix).</summary>
public readonly record struct SecretMatch(int Start, int Length, string Kind);
