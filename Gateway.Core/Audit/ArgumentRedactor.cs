using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Audit;

/// <summary>
/// Makes the copy of a call's arguments that the audit keeps beside their hash: the canonical JSON with the values of
/// secret-looking keys (password, token, secret, api key, authorization, ...), token-shaped values (the well-known
/// formats of <see cref="SecretDetector"/>, whatever their key) and text matching configured patterns masked, and long
/// strings cut. The hash is over the real arguments, so the copy need not be complete to be useful.
/// </summary>
public sealed class ArgumentRedactor
{
    /// <summary>What replaces a masked value.</summary>
    public const string Mask = "[redacted]";

    private const int MaxString = 256;
    private const int MaxLength = 4096;
    private static readonly string[] SecretKeyParts = ["password", "passwd", "pwd", "token", "secret", "apikey", "api_key", "api-key", "authorization", "credential", "private_key", "privatekey", "cookie"];
    private readonly Regex[] _patterns;
    private readonly SecretDetector _tokens;

    /// <summary>Creates a redactor.</summary>
    /// <param name="patterns">Regular expressions; matching text inside any string value is masked.</param>
    /// <param name="tokens">Finds token-shaped values; <see cref="SecretDetector.WellKnown"/> when not given.</param>
    public ArgumentRedactor(IEnumerable<string>? patterns = null, SecretDetector? tokens = null)
    {
        _patterns = [.. (patterns ?? []).Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)))];
        _tokens = tokens ?? SecretDetector.WellKnown;
    }

    /// <summary>Returns the redacted canonical JSON of the arguments, or <see langword="null"/> when there are none.</summary>
    /// <param name="arguments">The arguments.</param>
    /// <param name="findings">Receives a finding (kind and <c>arguments.name</c>, never the value) per token-shaped value.</param>
    public string? Redact(IEnumerable<KeyValuePair<string, JsonElement>>? arguments, ResultScan? findings = null)
    {
        if (arguments is null)
        {
            return null;
        }

        var sb = new StringBuilder();
        CanonicalJson.WriteObject(sb, arguments.Select(a => (a.Key, a.Value)), new Pass(this, findings));
        return sb.Length <= MaxLength ? sb.ToString() : sb.ToString(0, MaxLength) + $"…[{sb.Length - MaxLength} more chars]";
    }

    /// <summary>Whether a property name looks like it holds a secret.</summary>
    public static bool IsSecretKey(string name)
    {
        foreach (var part in SecretKeyParts)
        {
            if (name.Contains(part, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private string RedactText(string text, string? property, ResultScan? findings)
    {
        // Token-shaped values are masked whatever their key: the key names only catch secrets that are labelled.
        List<SecretMatch>? tokens = null;
        if (_tokens.Find(text, ref tokens))
        {
            foreach (var token in tokens!)
            {
                findings?.Add(FindingKinds.SecretPrefix + token.Kind, property is null ? "arguments" : "arguments." + property);
            }

            text = ServerResultGuard.Redact(text, tokens);
        }

        foreach (var pattern in _patterns)
        {
            try
            {
                text = pattern.Replace(text, Mask);
            }
            catch (RegexMatchTimeoutException)
            {
                // A pattern too slow for this value: mask the whole value rather than keep what it should have hidden.
                return Mask;
            }
        }

        return text.Length <= MaxString ? text : string.Concat(text.AsSpan(0, MaxString), $"…[{text.Length - MaxString} more chars]");
    }

    /// <summary>One redaction: remembers the property being written, to say where a token was found.</summary>
    private sealed class Pass(ArgumentRedactor redactor, ResultScan? findings) : CanonicalJson.IRewriter
    {
        private string? _property;

        public string? ReplaceProperty(string name)
        {
            _property = name;
            return IsSecretKey(name) ? Mask : null;
        }

        public string RewriteString(string value) => redactor.RedactText(value, _property, findings);
    }
}
