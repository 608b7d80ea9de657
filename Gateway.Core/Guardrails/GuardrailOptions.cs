namespace Gateway.Core.Guardrails;

/// <summary>The gateway-wide result guard settings (<c>Gateway:Guardrails</c>); per-server modes are on the server.</summary>
public sealed class GuardrailOptions
{
    /// <summary>Gets or sets extra secret patterns (regular expressions, run non-backtracking over every result and argument string); a match is a <c>secret.pattern</c> finding.</summary>
    public List<string> SecretPatterns { get; set; } = [];

    /// <summary>Gets or sets the injection phrases (literal, case-insensitive); <see langword="null"/> means <see cref="InjectionDetector.DefaultPhrases"/>, empty means none.</summary>
    public List<string>? InjectionPhrases { get; set; }

    /// <summary>Gets or sets injection patterns (regular expressions, case-insensitive, non-backtracking).</summary>
    public List<string> InjectionPatterns { get; set; } = [];
}
