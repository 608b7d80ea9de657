namespace Gateway.Core.Guardrails;

/// <summary>A server's result guard: what happens to secrets and hidden characters in its results, and its labels.</summary>
public sealed record ServerGuardSettings
{
    /// <summary>The most labels a server may carry.</summary>
    public const int MaxLabels = 16;

    /// <summary>The longest label.</summary>
    public const int MaxLabelLength = 32;

    /// <summary>Gets the settings of a server that says nothing: redact secrets, strip hidden characters, no labels.</summary>
    public static ServerGuardSettings Default { get; } = new();

    /// <summary>Gets what happens to secrets found in results.</summary>
    public SecretMode Secrets { get; init; } = SecretMode.Redact;

    /// <summary>Gets what happens to invisible, tag and bidi-override characters found in results.</summary>
    public UnicodeMode Unicode { get; init; } = UnicodeMode.Strip;

    /// <summary>Gets the labels (e.g. <c>private</c>, <c>external</c>) policy conditions can test (<c>@server.labels</c>, <c>@session.labels</c>).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>Whether a label is well formed: 1–32 of lower-case letters, digits, <c>-</c>, <c>_</c>, <c>.</c>.</summary>
    public static bool IsLabel(string? label) =>
        label is { Length: > 0 and <= MaxLabelLength } && label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.');

    /// <summary>Compares by value, labels included.</summary>
    public bool SameAs(ServerGuardSettings other) =>
        Secrets == other.Secrets && Unicode == other.Unicode && Labels.SequenceEqual(other.Labels);
}
