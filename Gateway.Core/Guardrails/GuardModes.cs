namespace Gateway.Core.Guardrails;

/// <summary>What the gateway does with a secret found in a tool result.</summary>
public enum SecretMode
{
    /// <summary>Results are not scanned for secrets.</summary>
    Off,

    /// <summary>The result passes unchanged; the finding is recorded in the audit entry.</summary>
    Flag,

    /// <summary>The secret is replaced by <c>[REDACTED:kind]</c> and the finding recorded (the default).</summary>
    Redact,

    /// <summary>The agent gets a tool error naming the finding kind instead of the result.</summary>
    Block,
}

/// <summary>What the gateway does with invisible, tag or bidi-override characters in a tool result.</summary>
public enum UnicodeMode
{
    /// <summary>Results are not scanned for them.</summary>
    Off,

    /// <summary>The result passes unchanged; the finding is recorded.</summary>
    Flag,

    /// <summary>The characters are removed and the finding recorded (the default).</summary>
    Strip,
}

/// <summary>The textual forms of the guard modes, as written in configuration, the API and the console.</summary>
public static class GuardModes
{
    /// <summary>The accepted secret modes, for error messages.</summary>
    public const string SecretNames = "off, flag, redact, block";

    /// <summary>The accepted Unicode modes, for error messages.</summary>
    public const string UnicodeNames = "off, flag, strip";

    /// <summary>The canonical name of a secret mode.</summary>
    public static string Name(this SecretMode mode) => mode switch
    {
        SecretMode.Off => "off",
        SecretMode.Flag => "flag",
        SecretMode.Block => "block",
        _ => "redact",
    };

    /// <summary>The canonical name of a Unicode mode.</summary>
    public static string Name(this UnicodeMode mode) => mode switch
    {
        UnicodeMode.Off => "off",
        UnicodeMode.Flag => "flag",
        _ => "strip",
    };

    /// <summary>Parses a secret mode; <see langword="null"/> or empty is the default, <see cref="SecretMode.Redact"/>.</summary>
    public static bool TryParseSecrets(string? text, out SecretMode mode)
    {
        mode = SecretMode.Redact;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "redact":
                return true;
            case "off":
                mode = SecretMode.Off;
                return true;
            case "flag":
                mode = SecretMode.Flag;
                return true;
            case "block":
                mode = SecretMode.Block;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Parses a Unicode mode; <see langword="null"/> or empty is the default, <see cref="UnicodeMode.Strip"/>.</summary>
    public static bool TryParseUnicode(string? text, out UnicodeMode mode)
    {
        mode = UnicodeMode.Strip;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "strip":
                return true;
            case "off":
                mode = UnicodeMode.Off;
                return true;
            case "flag":
                mode = UnicodeMode.Flag;
                return true;
            default:
                return false;
        }
    }
}
