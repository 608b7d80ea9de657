namespace Gateway.Core.Guardrails;

/// <summary>The gateway-wide result guard settings (<c>Gateway:Guardrails</c>); per-server modes are on the server.</summary>
public sealed class GuardrailOptions
{
    /// <summary>Gets or sets extra secret patterns (regular expressions, run non-backtracking over every result and argument string); a match is a <c>secret.pattern</c> finding.</summary>
    public List<string> SecretPatterns { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether <see cref="InjectionDetector.DefaultPhrases"/> are looked for (besides <see cref="InjectionPhrases"/>).</summary>
    public bool DefaultInjectionPhrases { get; set; } = true;

    /// <summary>Gets or sets more injection phrases (literal, case-insensitive).</summary>
    public List<string> InjectionPhrases { get; set; } = [];

    /// <summary>Gets or sets injection patterns (regular expressions, case-insensitive, non-backtracking).</summary>
    public List<string> InjectionPatterns { get; set; } = [];
}
