using Gateway.Core.Guardrails;

namespace Gateway.Core.Servers;

/// <summary>
/// Finds the secrets written inside a server's <see cref="ServerDefinition.Url"/> and <see cref="ServerDefinition.Args"/>
/// (<c>https://mcp.example.com/?api_key=…</c>, <c>--token …</c>, <c>--header "Authorization: Bearer …"</c>, the habit of
/// many mcp.json files): the store keeps those two fields whole only encrypted, and the API, the console and the audit
/// show them with the secret parts as <see cref="SecretNames.Placeholder"/>. The one place this is decided, beside
/// <see cref="SecretNames"/> for Env and Headers.
/// </summary>
/// <remarks>
/// Secret parts: a URL's user information (the password, or all of it without one); a query parameter's value when its
/// name is secret-looking (<see cref="SecretNames.IsSecret"/>, and <c>sig</c> of signed URLs); in an argument, the value
/// of <c>name=value</c> or <c>Name: value</c> with a secret-looking name, the argument after a secret-looking flag
/// (<c>--api-key VALUE</c>), a URL's secret parts; anywhere, the well-known token formats of
/// <see cref="SecretDetector.WellKnown"/>. Generous on purpose, as <see cref="SecretNames"/> is: a value wrongly taken
/// for a secret is only masked.
/// </remarks>
public static class SecretParts
{
    /// <summary>The URL as shown: its secret parts replaced by <see cref="SecretNames.Placeholder"/>.</summary>
    public static string? MaskUrl(string? url) => url is null ? null : Mask(url, UrlParts(url));

    /// <summary>The arguments as shown: their secret parts replaced by <see cref="SecretNames.Placeholder"/>.</summary>
    public static List<string> MaskArgs(IReadOnlyList<string> args)
    {
        var masked = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            masked.Add(Mask(args[i] ?? string.Empty, ArgSpans(args, i)));
        }

        return masked;
    }

    /// <summary>
    /// Whether <paramref name="whole"/> is what <paramref name="shown"/> shows: the same text, each
    /// <see cref="SecretNames.Placeholder"/> in <paramref name="shown"/> standing for some text. Independent of the rules
    /// that masked it, which a later version may widen: a masked form stored by an older version still matches the whole
    /// value it was made from.
    /// </summary>
    public static bool Shows(string shown, string whole)
    {
        var parts = shown.Split(SecretNames.Placeholder);
        if (parts.Length == 1)
        {
            return string.Equals(shown, whole, StringComparison.Ordinal);
        }

        if (!whole.StartsWith(parts[0], StringComparison.Ordinal) || !whole.EndsWith(parts[^1], StringComparison.Ordinal))
        {
            return false;
        }

        // Each placeholder stands for at least one character (a secret is never empty), each literal between two is
        // taken at its first place after the one before: for patterns whose only wildcard is "some text", the leftmost
        // match never rules out a match that exists.
        var at = parts[0].Length;
        var end = whole.Length - parts[^1].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var from = at + 1;
            var found = from > end ? -1 : whole.IndexOf(parts[i], from, end - from, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return end - at >= 1;
    }

    /// <summary>Whether the URL or the arguments hold a secret in clear (a part already masked is none).</summary>
    public static bool Any(string? url, IReadOnlyList<string> args) => Values(url, args).Any();

    /// <summary>The secret values themselves (what an upstream echoing its command line or URL would show); masked parts are left out.</summary>
    public static IEnumerable<string> Values(string? url, IReadOnlyList<string> args)
    {
        if (url is not null)
        {
            foreach (var (start, length) in UrlParts(url))
            {
                if (url.Substring(start, length) is var value && value != SecretNames.Placeholder)
                {
                    yield return value;
                }
            }
        }

        for (var i = 0; i < args.Count; i++)
        {
            foreach (var (start, length) in ArgSpans(args, i))
            {
                if (args[i]!.Substring(start, length) is var value && value != SecretNames.Placeholder)
                {
                    yield return value;
                }
            }
        }
    }

    /// <summary>The URL an update stores: the masked form of the stored URL, sent back unchanged, keeps the stored URL.</summary>
    public static string? KeepUrl(string? incoming, string? stored) =>
        incoming is not null && stored is not null && incoming != stored && incoming == MaskUrl(stored) ? stored : incoming;

    /// <summary>
    /// The arguments an update stores: each one equal to the masked form of a stored argument that hid something, after
    /// the same argument (a flag's value stays with its flag), takes that stored argument, the one at the same position
    /// first. A restored argument must mask back to what was sent; else the mask stays, and the validator refuses it.
    /// </summary>
    public static List<string> KeepArgs(IReadOnlyList<string> incoming, IReadOnlyList<string> stored)
    {
        var masked = MaskArgs(stored);
        var used = new bool[stored.Count];
        var kept = new List<string>(incoming.Count);
        for (var i = 0; i < incoming.Count; i++)
        {
            var arg = incoming[i];
            var previous = i > 0 ? incoming[i - 1] : null;
            bool Matches(int j) => !used[j] && masked[j] == arg && masked[j] != stored[j] && (j > 0 ? masked[j - 1] : null) == previous;
            var match = i < stored.Count && Matches(i) ? i : -1;
            for (var j = 0; match < 0 && j < stored.Count; j++)
            {
                match = Matches(j) ? j : -1;
            }

            if (match >= 0)
            {
                used[match] = true;
                arg = stored[match];
            }

            kept.Add(arg);
        }

        // What is kept shows as what was sent, or it is not kept (a secret never lands where it would show in clear).
        var shown = MaskArgs(kept);
        for (var i = 0; i < kept.Count; i++)
        {
            if (shown[i] != incoming[i])
            {
                kept[i] = incoming[i];
            }
        }

        return kept;
    }

    private static List<(int Start, int Length)> UrlParts(string url) => Tokens(url, UrlSpans(url, 0, []));

    private static List<(int Start, int Length)> ArgSpans(IReadOnlyList<string> args, int index)
    {
        // A null argument (a row written before arguments were validated) holds nothing.
        var arg = args[index] ?? string.Empty;
        var spans = new List<(int Start, int Length)>();
        if (arg.Length == 0)
        {
            return spans;
        }

        // The value after a secret-looking flag given on its own ("--api-key VALUE"; single letters name nothing).
        if (index > 0 && !arg.StartsWith('-') && IsFlag(args[index - 1] ?? string.Empty, out var flag) && SecretNames.IsSecret(flag))
        {
            spans.Add((0, arg.Length));
            return spans;
        }

        var scheme = arg.IndexOf("://", StringComparison.Ordinal);
        var equals = arg.IndexOf('=');
        if (equals > 0 && (scheme < 0 || equals < scheme) && IsSecretName(arg[..equals].TrimStart('-')))
        {
            // "--api-key=VALUE", "TOKEN=VALUE", "--dsn=postgres://user:pw@host/db": the whole value.
            if (equals + 1 < arg.Length)
            {
                spans.Add((equals + 1, arg.Length - equals - 1));
            }
        }
        else if (HeaderValue(arg, equals > 0 && (scheme < 0 || equals < scheme) ? equals + 1 : 0) is { } header)
        {
            // "Authorization: Bearer VALUE", as mcp-remote's --header takes it, also as "--header=Authorization: ...".
            spans.Add(header);
        }
        else if (scheme > 0)
        {
            // A URL, whole or after "--url=": its own secret parts.
            UrlSpans(arg, SchemeStart(arg, scheme), spans);
        }

        return Tokens(arg, spans);
    }

    // The secret parts of the URL starting at offset start of text: user information and secret query values.
    private static List<(int Start, int Length)> UrlSpans(string text, int start, List<(int Start, int Length)> spans)
    {
        var scheme = text.IndexOf("://", start, StringComparison.Ordinal);
        if (scheme < 0)
        {
            return spans;
        }

        var authority = scheme + 3;
        var authorityEnd = text.IndexOfAny(['/', '?', '#', ' '], authority) is var end and >= 0 ? end : text.Length;
        var at = authorityEnd > authority ? text.LastIndexOf('@', authorityEnd - 1, authorityEnd - authority) : -1;
        if (at > authority)
        {
            var colon = text.IndexOf(':', authority, at - authority);
            var from = colon >= 0 ? colon + 1 : authority;
            if (at > from)
            {
                spans.Add((from, at - from));
            }
        }

        var query = text.IndexOf('?', authorityEnd);
        if (query < 0)
        {
            return spans;
        }

        var queryEnd = text.IndexOfAny(['#', ' '], query) is var stop and >= 0 ? stop : text.Length;
        for (var p = query + 1; p < queryEnd;)
        {
            var next = text.IndexOf('&', p, queryEnd - p) is var amp and >= 0 ? amp : queryEnd;
            var eq = text.IndexOf('=', p, next - p);
            if (eq > p && eq + 1 < next && IsSecretParameter(Uri.UnescapeDataString(text[p..eq])))
            {
                spans.Add((eq + 1, next - eq - 1));
            }

            p = next + 1;
        }

        return spans;
    }

    // The well-known token formats (a GitHub token in a path, a key as a bare argument) where nothing named them.
    private static List<(int Start, int Length)> Tokens(string text, List<(int Start, int Length)> spans)
    {
        List<SecretMatch>? tokens = null;
        if (SecretDetector.WellKnown.Find(text, ref tokens))
        {
            foreach (var token in tokens!)
            {
                spans.Add((token.Start, token.Length));
            }
        }

        return spans;
    }

    private static string Mask(string text, List<(int Start, int Length)> spans)
    {
        if (spans.Count == 0)
        {
            return text;
        }

        // Overlapping spans (a query value that is also a well-known token) are hidden once, as their union.
        spans.Sort();
        var sb = new System.Text.StringBuilder(text.Length);
        var at = 0;
        foreach (var (start, length) in spans)
        {
            if (start + length <= at)
            {
                continue;
            }

            if (start >= at)
            {
                sb.Append(text, at, start - at).Append(SecretNames.Placeholder);
            }

            at = start + length;
        }

        return sb.Append(text, at, text.Length - at).ToString();
    }

    // "sig" is the signature of signed URLs (Azure SAS and the like), a credential in all but name.
    private static bool IsSecretParameter(string name) => SecretNames.IsSecret(name) || name.Equals("sig", StringComparison.OrdinalIgnoreCase);

    private static bool IsSecretName(string name) => IsName(name) && SecretNames.IsSecret(name);

    private static bool IsFlag(string arg, out string name)
    {
        name = arg.TrimStart('-');
        return arg.StartsWith('-') && name.Length > 1 && !arg.Contains('=') && IsName(name);
    }

    private static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    // The value of a "Name: value" starting at from, when Name is secret-looking.
    private static (int Start, int Length)? HeaderValue(string arg, int from)
    {
        var colon = arg.IndexOf(':', from);
        if (colon <= from || (colon + 2 < arg.Length && arg[colon + 1] == '/' && arg[colon + 2] == '/') || !IsSecretName(arg[from..colon]))
        {
            return null;
        }

        var value = colon + 1;
        while (value < arg.Length && arg[value] == ' ')
        {
            value++;
        }

        return value < arg.Length ? (value, arg.Length - value) : null;
    }

    private static int SchemeStart(string text, int scheme)
    {
        var start = scheme;
        while (start > 0 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] is '+' or '-' or '.'))
        {
            start--;
        }

        return start;
    }
}
