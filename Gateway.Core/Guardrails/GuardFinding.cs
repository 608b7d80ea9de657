namespace Gateway.Core.Guardrails;

/// <summary>
/// Something the guard found: its kind (<c>secret.aws-access-key</c>, <c>unicode.bidi</c>, <c>injection</c>) and where
/// (<c>content[0].text@120</c>, <c>arguments.token</c>). Never the text itself: findings go into the audit trail.
/// </summary>
public readonly record struct GuardFinding(string Kind, string Location);

/// <summary>The finding kinds.</summary>
public static class FindingKinds
{
    /// <summary>The prefix of every secret kind.</summary>
    public const string SecretPrefix = "secret.";

    /// <summary>One of the gateway's own stored upstream credentials, verbatim.</summary>
    public const string StoredCredential = "secret.stored-credential";

    /// <summary>Text matching a configured secret pattern.</summary>
    public const string SecretPattern = "secret.pattern";

    /// <summary>Unicode tag characters (U+E0000–U+E007F) or variation selectors supplement (U+E0100–U+E01EF): text a model reads and a person does not see.</summary>
    public const string UnicodeTag = "unicode.tag";

    /// <summary>Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).</summary>
    public const string UnicodeBidi = "unicode.bidi";

    /// <summary>Zero-width and invisible format characters (U+200B, U+2060–U+2064, U+FEFF, U+180E).</summary>
    public const string UnicodeInvisible = "unicode.invisible";

    /// <summary>Text matching a configured injection phrase or pattern.</summary>
    public const string Injection = "injection";
}
