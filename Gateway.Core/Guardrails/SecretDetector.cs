using System.Buffers;
using System.Text.RegularExpressions;

namespace Gateway.Core.Guardrails;

/// <summary>
/// Finds secrets in text: the gateway's own stored upstream credentials verbatim, the well-known token formats (AWS,
/// GitHub, GitLab, Slack, Stripe, OpenAI and Anthropic keys, JWTs, PEM private keys, credentials in URLs) and
/// configured patterns.
/// </summary>
/// <remarks>
/// Built to be cheap on clean text, which is nearly all of it: one vectorized multi-string search for the formats'
/// prefixes and the known secrets rules most text out in one pass, and each format's anchored regex runs only where a
/// prefix was found. Configured patterns cannot be prefiltered and run over the whole text (non-backtracking, so in
/// linear time); each one costs what it costs.
/// </remarks>
public sealed partial class SecretDetector
{
    /// <summary>Stored credentials shorter than this are not looked for: short values ("admin", "1234") are ordinary text too.</summary>
    public const int MinKnownSecretLength = 8;

    private static readonly string[] Prefixes =
    [
        "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
        "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xapp-", "sk_live_", "sk_test_", "rk_live_", "rk_test_",
        "sk-", "eyJ", "-----BEGIN", "://",
    ];

    private readonly SearchValues<string> _search;
    private readonly string[] _known;
    private readonly Regex[] _patterns;

    /// <summary>Creates a detector.</summary>
    /// <param name="knownSecrets">Secrets to find verbatim (the gateway's stored upstream credentials); short ones are ignored.</param>
    /// <param name="patterns">Configured patterns (compiled by <see cref="CompilePattern"/>); a match is a <c>pattern</c> secret.</param>
    public SecretDetector(IEnumerable<string>? knownSecrets = null, IReadOnlyList<Regex>? patterns = null)
    {
        // Longest first: a secret that contains another is hidden whole.
        _known = [.. (knownSecrets ?? []).Where(s => s.Length >= MinKnownSecretLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
        _patterns = [.. patterns ?? []];
        _search = SearchValues.Create([.. Prefixes, .. _known], StringComparison.Ordinal);
    }

    /// <summary>Gets a detector of the well-known formats only.</summary>
    public static SecretDetector WellKnown { get; } = new();

    /// <summary>Compiles a configured pattern: non-backtracking, so no input can make it slow.</summary>
    /// <exception cref="ArgumentException">The pattern is not a valid (non-backtracking) regular expression.</exception>
    public static Regex CompilePattern(string pattern) =>
        new(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>Whether the text holds anything this detector reports (stops at the first).</summary>
    public bool Any(string text)
    {
        List<SecretMatch>? none = null;
        return Find(text, ref none, stopAtFirst: true);
    }

    /// <summary>Finds the secrets of a text, in order and not overlapping.</summary>
    /// <param name="text">The text.</param>
    /// <param name="matches">Receives the matches; created on the first one, so clean text allocates nothing.</param>
    /// <returns>Whether anything was found.</returns>
    public bool Find(string text, ref List<SecretMatch>? matches) => Find(text, ref matches, stopAtFirst: false);

    private bool Find(string text, ref List<SecretMatch>? matches, bool stopAtFirst)
    {
        var found = false;
        var i = 0;
        while (i < text.Length)
        {
            var hit = text.AsSpan(i).IndexOfAny(_search);
            if (hit < 0)
            {
                break;
            }

            hit += i;
            if (TryMatchAt(text, hit, out var match))
            {
                found = true;
                if (stopAtFirst)
                {
                    return true;
                }

                (matches ??= []).Add(match);
                i = match.Start + match.Length;
            }
            else
            {
                i = hit + 1;
            }
        }

        foreach (var pattern in _patterns)
        {
            foreach (var m in pattern.EnumerateMatches(text))
            {
                if (m.Length == 0 || Overlaps(matches, m.Index, m.Length))
                {
                    continue;
                }

                found = true;
                if (stopAtFirst)
                {
                    return true;
                }

                (matches ??= []).Add(new SecretMatch(m.Index, m.Length, "pattern"));
            }
        }

        if (_patterns.Length > 0 && matches is { Count: > 1 })
        {
            matches.Sort((a, b) => a.Start.CompareTo(b.Start));
        }

        return found;
    }

    private static bool Overlaps(List<SecretMatch>? matches, int start, int length)
    {
        if (matches is null)
        {
            return false;
        }

        foreach (var m in matches)
        {
            if (start < m.Start + m.Length && m.Start < start + length)
            {
                return true;
            }
        }

        return false;
    }

    private bool TryMatchAt(string text, int at, out SecretMatch match)
    {
        var rest = text.AsSpan(at);
        foreach (var known in _known)
        {
            if (rest.StartsWith(known, StringComparison.Ordinal))
            {
                match = new SecretMatch(at, known.Length, "stored-credential");
                return true;
            }
        }

        match = default;
        switch (text[at])
        {
            case ':':
                // "://user:password@host": hide the user-info, keep the scheme and host so the text still reads.
                var url = Anchored(UrlCredentials(), text, at);
                if (url > 0)
                {
                    match = new SecretMatch(at + 3, url - 4, "url-credentials");
                    return true;
                }

                return false;
            case '-':
                return Try(PemPrivateKey(), text, at, "private-key", out match);
        }

        // Every other format starts a word: "xAKIA..." or "taskeyJ..." are not tokens.
        if (at > 0 && char.IsAsciiLetterOrDigit(text[at - 1]))
        {
            return false;
        }

        return text[at] switch
        {
            'A' => Try(AwsAccessKey(), text, at, "aws-access-key", out match),
            'g' => Try(GitHubToken(), text, at, "github-token", out match) || Try(GitLabToken(), text, at, "gitlab-token", out match),
            'x' => Try(SlackToken(), text, at, "slack-token", out match),
            'r' => Try(StripeKey(), text, at, "stripe-key", out match),
            's' => Try(StripeKey(), text, at, "stripe-key", out match)
                || Try(AnthropicKey(), text, at, "anthropic-key", out match)
                || Try(OpenAiKey(), text, at, "openai-key", out match),
            'e' => Try(Jwt(), text, at, "jwt", out match),
            _ => false,
        };
    }

    private static bool Try(Regex regex, string text, int at, string kind, out SecretMatch match)
    {
        var length = Anchored(regex, text, at);
        match = length > 0 ? new SecretMatch(at, length, kind) : default;
        return length > 0;
    }

    /// <summary>The length of the anchored (<c>\G</c>) regex's match at <paramref name="at"/>, or 0.</summary>
    private static int Anchored(Regex regex, string text, int at)
    {
        foreach (var m in regex.EnumerateMatches(text, at))
        {
            return m.Index == at ? m.Length : 0;
        }

        return 0;
    }

    [GeneratedRegex(@"\G(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"\G(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])", RegexOptions.CultureInvariant)]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\Gglpat-[A-Za-z0-9_\-]{20,64}(?![A-Za-z0-9_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex GitLabToken();

    [GeneratedRegex(@"\G(?:xox[abprs]-[A-Za-z0-9]+-[A-Za-z0-9\-]{8,250}|xapp-[0-9]-[A-Za-z0-9\-]{10,250})", RegexOptions.CultureInvariant)]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\G[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\Gsk-ant-[A-Za-z0-9_\-]{32,250}(?![A-Za-z0-9_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex AnthropicKey();

    // The legacy form has no dashes after "sk-"; the project and service-account forms do. Words like "sk-learn-..."
    // are neither.
    [GeneratedRegex(@"\Gsk-(?:[A-Za-z0-9]{32,250}|(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{32,250})(?![A-Za-z0-9_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex OpenAiKey();

    // Header and payload are base64url JSON objects, so both begin "eyJ" ('{"').
    [GeneratedRegex(@"\GeyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,8192}\.[A-Za-z0-9_\-]{8,4096}(?![A-Za-z0-9_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex Jwt();

    // To the END line, or to the end of the text when it was cut: half a key is still a secret.
    [GeneratedRegex(@"\G-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----|[\s\S]*)", RegexOptions.CultureInvariant)]
    private static partial Regex PemPrivateKey();

    // "[" and "]" are not user-info characters (RFC 3986), which also keeps a redacted URL from matching again.
    [GeneratedRegex(@"\G://[^\s/?#@:\[\]]{1,256}:[^\s/?#@\[\]]{1,256}@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlCredentials();
}
