using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Core.Text;

namespace Gateway.Core.Catalog;

/// <summary>
/// Reads a tool definition as a model would (description, title, every schema string and property name,
/// annotations) and reports the signs of tool poisoning: hidden-instruction markup, invisible Unicode, names of other
/// servers' tools, credential paths, long encoded blobs and instructions addressed to the model. Runs when a tool is
/// discovered, never per call, and is bounded: at most <see cref="MaxScannedChars"/> characters and
/// <see cref="MaxFindings"/> findings per definition. A definition with findings is not trusted on first use.
/// </summary>
public static partial class DefinitionScanner
{
    /// <summary>The most characters of one definition that are read; a longer definition gets an <see cref="FindingKind.Unscanned"/> finding.</summary>
    public const int MaxScannedChars = 64 * 1024;

    /// <summary>The most findings kept per definition (one is enough to quarantine; more help the reviewer).</summary>
    public const int MaxFindings = 32;

    private const int MaxDepth = 32;
    private const int ContextChars = 40;
    private const int MaxMatchChars = 120;
    private const int MinBlobChars = 120;

    // Source-generated (built with the gateway, nothing to construct at start: the NonBacktracking engine spent ~0.6 s
    // and 40 MiB building these at the first discovery, and kept ~20 MiB). The patterns are written so the
    // backtracking engine stays linear in the text: whitespace runs before a required non-space are atomic (?>...), no
    // two unbounded quantifiers can share characters, gaps are bounded, and .env is found by its literal with the
    // character before it as a lookbehind. The text is capped at MaxScannedChars; the timeout is only a backstop (a
    // field whose scan times out is reported, so the definition waits in quarantine rather than passing unscanned).
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    private const int TimeoutMs = 2000;

    private static readonly (FindingKind Kind, Regex Pattern, string Detail)[] Patterns =
    [
        (FindingKind.HiddenMarkup, InstructionMarkup(), "instruction markup"),
        (FindingKind.HiddenMarkup, HtmlComment(), "HTML comment"),
        (FindingKind.HiddenMarkup, ChatTemplateMarkup(), "chat-template markup"),
        (FindingKind.CredentialPath, SshKeyPath(), "SSH key path"),
        (FindingKind.CredentialPath, CredentialFilePath(), "credential file path"),
        (FindingKind.CredentialPath, EnvFile(), ".env file"),
        (FindingKind.CredentialPath, SystemSecretPath(), "system secret path"),
        (FindingKind.CredentialPath, AgentConfigurationFile(), "agent configuration file (holds other servers' credentials)"),
        (FindingKind.ModelInstruction, DropInstructions(), "asks the model to drop its instructions"),
        (FindingKind.ModelInstruction, HideFromUser(), "asks the model to hide something from the user"),
        (FindingKind.ModelInstruction, BehindUsersBack(), "asks the model to act behind the user's back"),
        (FindingKind.ModelInstruction, DoSomethingFirst(), "tells the model to do something first"),
        (FindingKind.ModelInstruction, CovertAction(), "asks for covert action"),
        (FindingKind.ModelInstruction, Coercion(), "coerces the model"),
        (FindingKind.ModelInstruction, AddressesModel(), "addresses the model directly"),
    ];

    [GeneratedRegex(@"<(?>\s*)(/(?>\s*))?(important|system|instructions?|secret|hidden|admin|assistant|context|prompt|sys|note\s+to\s+(the\s+)?(ai|assistant|model))(\s[^<>]{0,64})?>", Options, TimeoutMs)]
    private static partial Regex InstructionMarkup();

    [GeneratedRegex(@"<!--", Options, TimeoutMs)]
    private static partial Regex HtmlComment();

    [GeneratedRegex(@"\[/?(INST|SYS|SYSTEM)\]|<</?SYS>>|<\|(im_start|im_end|system|user|assistant|endoftext)\|>", Options, TimeoutMs)]
    private static partial Regex ChatTemplateMarkup();

    [GeneratedRegex(@"~/\.ssh\b|\.ssh/|\bid_(rsa|dsa|ecdsa|ed25519)\b|authorized_keys|known_hosts", Options, TimeoutMs)]
    private static partial Regex SshKeyPath();

    [GeneratedRegex(@"\.aws/(credentials|config)|\.azure/|\.config/gcloud|\.kube/config|\.docker/config\.json|\.git-credentials|\.netrc\b|\.npmrc\b|\.pypirc\b|\.gnupg\b|\.password-store", Options, TimeoutMs)]
    private static partial Regex CredentialFilePath();

    [GeneratedRegex(@"(?<=^|[\s'""`/(~])\.env(\.[a-z]+)?\b", Options, TimeoutMs)]
    private static partial Regex EnvFile();

    [GeneratedRegex(@"/etc/(passwd|shadow|sudoers)\b|\.(bash|zsh)_history\b", Options, TimeoutMs)]
    private static partial Regex SystemSecretPath();

    [GeneratedRegex(@"\bmcp\.json\b|claude_desktop_config\.json|\.cursor/|\.claude/", Options, TimeoutMs)]
    private static partial Regex AgentConfigurationFile();

    [GeneratedRegex(@"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding|other|system)\s+(instructions|prompts?|rules|messages|guidelines)", Options, TimeoutMs)]
    private static partial Regex DropInstructions();

    [GeneratedRegex(@"\b(do\s+not|don't|never)\s+(tell|inform|mention|reveal|alert|notify|show|disclose)\b[^.\n]{0,40}\b(the\s+)?user\b", Options, TimeoutMs)]
    private static partial Regex HideFromUser();

    [GeneratedRegex(@"\bwithout\s+(telling|informing|notifying|alerting|asking|showing)\s+(the\s+)?user\b|\bthe\s+user\s+(must|should)\s+not\s+(know|see|be\s+told)", Options, TimeoutMs)]
    private static partial Regex BehindUsersBack();

    [GeneratedRegex(@"\b(before|prior\s+to)\s+(using|calling|invoking|running)\s+(this|the|any|other)\s+tools?((?>\s*),)?(?>\s+)(you\s+)?(must\s+|should\s+|need\s+to\s+|have\s+to\s+)?(first\s+)?(read|call|send|pass|include|fetch|open|cat|upload|provide|copy)\b", Options, TimeoutMs)]
    private static partial Regex DoSomethingFirst();

    [GeneratedRegex(@"\b(secretly|silently|covertly|quietly)\s+(send|read|include|pass|call|forward|upload|add|copy|email|attach)\b", Options, TimeoutMs)]
    private static partial Regex CovertAction();

    [GeneratedRegex(@"\botherwise\s+(the\s+|this\s+)?tool\s+will\s+(not\s+work|fail|crash|break)|\bwhen\s+this\s+tool\s+is\s+(available|present|loaded|installed)\b", Options, TimeoutMs)]
    private static partial Regex Coercion();

    [GeneratedRegex(@"\byou\s+are\s+(now\s+)?(an?\s+)?(ai|assistant|language\s+model|llm)\b|\bsystem\s+prompt\b|\bnew\s+instructions?\s*:", Options, TimeoutMs)]
    private static partial Regex AddressesModel();

    [GeneratedRegex(@"[A-Za-z0-9+/_-]{120,}={0,2}|(0x)?[0-9a-f]{128,}", Options, TimeoutMs)]
    private static partial Regex Blob();

    // Tool names per SEP-986: letters, digits, '_', '-', '.'; a server__tool name needs a letter before "__".
    [GeneratedRegex(@"[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]", RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex Token();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9-]*__[A-Za-z]", RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex NamespacedName();

    /// <summary>Scans a definition (the tool as JSON) of <paramref name="server"/>, whose tools are exposed under <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<DefinitionFinding> Scan(JsonElement definition, string server = "", string prefix = "", ToolNameIndex? tools = null)
    {
        var scan = new Scanner(server, prefix, tools ?? ToolNameIndex.Empty);
        scan.Walk(definition, string.Empty, 0);
        return scan.Findings;
    }

    private sealed class Scanner(string server, string prefix, ToolNameIndex tools)
    {
        private int _budget = MaxScannedChars;
        private bool _truncated;

        public List<DefinitionFinding> Findings { get; } = [];

        private bool Full => Findings.Count >= MaxFindings || _truncated;

        public void Walk(JsonElement element, string path, int depth)
        {
            if (Full)
            {
                return;
            }

            if (depth > MaxDepth)
            {
                Truncate(path, "nested deeper than " + MaxDepth + " levels");
                return;
            }

            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        var field = path.Length == 0 ? property.Name : path + "." + property.Name;
                        Text(field, property.Name);
                        Walk(property.Value, field, depth + 1);
                    }

                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item, $"{path}[{i++}]", depth + 1);
                    }

                    break;
                case JsonValueKind.String:
                    Text(path, element.GetString()!);
                    break;
            }
        }

        private void Text(string field, string text)
        {
            if (Full || text.Length == 0)
            {
                return;
            }

            if (text.Length > _budget)
            {
                Truncate(field, $"the definition holds more than {MaxScannedChars} characters of text; the rest was not scanned");
                return;
            }

            _budget -= text.Length;
            Invisible(field, text);
            try
            {
                foreach (var (kind, pattern, detail) in Patterns)
                {
                    foreach (var match in pattern.EnumerateMatches(text))
                    {
                        Add(kind, field, text, match.Index, match.Length, detail);
                    }
                }

                foreach (var match in Blob().EnumerateMatches(text))
                {
                    if (LooksEncoded(text.AsSpan(match.Index, match.Length)))
                    {
                        Add(FindingKind.EncodedBlob, field, text, match.Index, match.Length, $"{match.Length}-character encoded run");
                    }
                }

                References(field, text);
            }
            catch (RegexMatchTimeoutException)
            {
                Truncate(field, $"the scan of this field took longer than {TimeoutMs} ms; the rest was not scanned");
            }
        }

        // Runs of one kind of invisible character are one finding; tag characters spell ASCII, which is decoded for the reviewer.
        private void Invisible(string field, string text)
        {
            var i = 0;
            while (i < text.Length && !Full)
            {
                if (System.Text.Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var size) != System.Buffers.OperationStatus.Done)
                {
                    // An unpaired surrogate: not a character at all, so step over it.
                    i++;
                    continue;
                }

                var kind = InvisibleCharacters.Classify(rune.Value);
                if (kind is null || InvisibleCharacters.IsEmojiJoiner(text, i))
                {
                    i += size;
                    continue;
                }

                var start = i;
                var count = 0;
                var hidden = new System.Text.StringBuilder();
                while (i < text.Length && System.Text.Rune.DecodeFromUtf16(text.AsSpan(i), out var next, out var length) == System.Buffers.OperationStatus.Done
                    && InvisibleCharacters.Classify(next.Value) == kind)
                {
                    if (next.Value is >= 0xE0020 and <= 0xE007E && hidden.Length < MaxMatchChars)
                    {
                        hidden.Append((char)(next.Value - 0xE0000));
                    }

                    count++;
                    i += length;
                }

                var detail = $"{count} {kind}{(count == 1 ? string.Empty : "s")} ({InvisibleCharacters.Name(rune.Value)}{(count == 1 ? string.Empty : " …")})"
                    + (hidden.Length > 0 ? $" spelling \"{hidden}\"" : string.Empty);
                Add(FindingKind.InvisibleCharacter, field, text, start, i - start, detail);
            }
        }

        private void References(string field, string text)
        {
            foreach (var match in Token().EnumerateMatches(text))
            {
                var token = text.Substring(match.Index, match.Length).TrimEnd('.', '-');
                if (tools.ForeignOwner(token, server) is { } owner)
                {
                    Add(FindingKind.CrossServerReference, field, text, match.Index, token.Length, $"names tool '{token}' of server '{owner}'");
                }
                else if (NamespacedName().IsMatch(token) && !tools.IsOwnedBy(token, server) && (prefix.Length == 0 || !token.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    Add(FindingKind.CrossServerReference, field, text, match.Index, token.Length, $"names '{token}', a server__tool name of another server");
                }
            }
        }

        // A run of letters only is a long word, not a payload: encoded data mixes digits with both cases (base64) or is hex.
        private static bool LooksEncoded(ReadOnlySpan<char> run)
        {
            bool upper = false, lower = false, digit = false, hexOnly = true;
            foreach (var c in run)
            {
                upper |= char.IsAsciiLetterUpper(c);
                lower |= char.IsAsciiLetterLower(c);
                digit |= char.IsAsciiDigit(c);
                hexOnly &= char.IsAsciiHexDigit(c) || c is 'x' or 'X';
            }

            return (hexOnly && digit) || (upper && lower && digit);
        }

        private void Truncate(string field, string detail)
        {
            if (!_truncated && Findings.Count < MaxFindings)
            {
                Findings.Add(new DefinitionFinding(FindingKind.Unscanned, field, 0, 0, detail, new FindingExcerpt(string.Empty, string.Empty, string.Empty)));
            }

            _truncated = true;
        }

        private void Add(FindingKind kind, string field, string text, int start, int length, string detail)
        {
            if (Findings.Count < MaxFindings)
            {
                Findings.Add(new DefinitionFinding(kind, field, start, length, detail, Excerpt(text, start, length)));
            }
        }
    }

    /// <summary>The match and up to <see cref="ContextChars"/> characters around it, invisible characters made visible.</summary>
    internal static FindingExcerpt Excerpt(string text, int start, int length)
    {
        var from = Math.Max(0, start - ContextChars);
        var end = start + length;
        var to = Math.Min(text.Length, end + ContextChars);
        var match = length > MaxMatchChars ? text.Substring(start, MaxMatchChars) + "…" : text.Substring(start, length);
        return new FindingExcerpt(
            (from > 0 ? "…" : string.Empty) + InvisibleCharacters.MakeVisible(Safe(text[from..start])),
            InvisibleCharacters.MakeVisible(Safe(match)),
            InvisibleCharacters.MakeVisible(Safe(text[end..to])) + (to < text.Length ? "…" : string.Empty));
    }

    // A cut may split a surrogate pair; a lone half is replaced rather than shown as garbage.
    private static string Safe(string s) => s.Length > 0 && (char.IsSurrogate(s[0]) || char.IsSurrogate(s[^1]))
        ? string.Concat(s.EnumerateRunes().Select(r => r.ToString()))
        : s;
}
