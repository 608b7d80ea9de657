using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Gateway.Core.Audit;

/// <summary>JSON canonicalization after RFC 8785 (JCS): sorted keys, no whitespace, ECMAScript number and string forms.</summary>
/// <remarks>Two semantically equal JSON documents give the same bytes, so their hashes can be compared and chained.</remarks>
public static class CanonicalJson
{
    // What a JSON string must escape (RFC 8785 section 3.2.2.2): the quote, the backslash and the control characters.
    private static readonly SearchValues<char> Escaped = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(c => (char)c), '"', '\\']);

    // Strings longer than this (escaped UTF-8 bytes) are unescaped a piece at a time (WriteString of an element).
    private const int LongString = 4096;

    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    public static string Serialize(JsonElement element)
    {
        var sb = new StringBuilder();
        var writer = CanonicalJsonWriter.To(sb);
        Write(ref writer, element);
        return sb.ToString();
    }

    /// <summary>Writes the canonical form of a JSON object given as properties.</summary>
    public static string SerializeObject(IEnumerable<KeyValuePair<string, JsonElement>> properties)
    {
        var sb = new StringBuilder();
        WriteObject(sb, properties.Select(p => (p.Key, p.Value)));
        return sb.ToString();
    }

    /// <summary>Computes the lower-case hex SHA-256 of the canonical form of a JSON object; <see langword="null"/> stands for <c>{}</c>.</summary>
    /// <remarks>The canonical form goes into the hash as it is written; it is never held whole (<see cref="CanonicalJsonWriter"/>).</remarks>
    public static string Sha256(IEnumerable<KeyValuePair<string, JsonElement>>? properties)
    {
        var writer = CanonicalJsonWriter.ToSha256();
        try
        {
            WriteObject(ref writer, (properties ?? []).Select(p => (p.Key, p.Value)), null);
            return writer.Sha256Hex();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>Like <see cref="Sha256"/>, but reports instead of throwing when the arguments have no canonical form.</summary>
    public static bool TrySha256(IEnumerable<KeyValuePair<string, JsonElement>>? properties, out string hash)
    {
        try
        {
            hash = Sha256(properties);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            hash = string.Empty;
            return false;
        }
    }

    /// <summary>Rewrites values on their way out (the audit's redacted copy); without one, values are written as they are.</summary>
    internal interface IRewriter
    {
        /// <summary>Returns what to write instead of the value of the property <paramref name="name"/>, or null to keep it.</summary>
        string? ReplaceProperty(string name);

        /// <summary>Returns the string to write for a string value.</summary>
        string RewriteString(string value);
    }

    internal static void WriteObject(StringBuilder sb, IEnumerable<(string Name, JsonElement Value)> properties, IRewriter? rewriter = null)
    {
        var writer = CanonicalJsonWriter.To(sb);
        WriteObject(ref writer, properties, rewriter);
    }

    internal static void WriteString(StringBuilder sb, string s)
    {
        var writer = CanonicalJsonWriter.To(sb);
        WriteString(ref writer, s);
    }

    private static void Write(ref CanonicalJsonWriter w, JsonElement e, IRewriter? rewriter = null)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(ref w, e.EnumerateObject().Select(p => (p.Name, p.Value)), rewriter);
                break;
            case JsonValueKind.Array:
                w.Append('[');
                var first = true;
                foreach (var item in e.EnumerateArray())
                {
                    if (!first)
                    {
                        w.Append(',');
                    }

                    first = false;
                    Write(ref w, item, rewriter);
                }

                w.Append(']');
                break;
            case JsonValueKind.String when rewriter is null:
                WriteString(ref w, e);
                break;
            case JsonValueKind.String:
                WriteString(ref w, rewriter.RewriteString(e.GetString()!));
                break;
            case JsonValueKind.Number:
                // GetDouble gives infinity for literals beyond the double range (e.g. 1e400); FormatNumber refuses it.
                w.Append(FormatNumber(e.GetDouble()));
                break;
            case JsonValueKind.True:
                w.Append("true");
                break;
            case JsonValueKind.False:
                w.Append("false");
                break;
            default:
                w.Append("null");
                break;
        }
    }

    private static void WriteObject(ref CanonicalJsonWriter w, IEnumerable<(string Name, JsonElement Value)> properties, IRewriter? rewriter)
    {
        w.Append('{');
        var first = true;

        // RFC 8785 sorts by UTF-16 code units, which is exactly ordinal string comparison.
        foreach (var (name, value) in properties.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (!first)
            {
                w.Append(',');
            }

            first = false;
            WriteString(ref w, name);
            w.Append(':');
            if (rewriter?.ReplaceProperty(name) is { } replacement)
            {
                WriteString(ref w, replacement);
            }
            else
            {
                Write(ref w, value, rewriter);
            }
        }

        w.Append('}');
    }

    private static void WriteString(ref CanonicalJsonWriter w, JsonElement e)
    {
        // A long string is unescaped and transcoded a piece at a time instead of becoming a string: a tool result's text
        // can be megabytes, and as a string it was twice that again, on every call. The document was validated when it
        // was parsed, so its escapes are well formed and its UTF-8 valid.
        var raw = JsonMarshal.GetRawUtf8Value(e);
        if (raw.Length <= LongString)
        {
            WriteString(ref w, e.GetString()!);
            return;
        }

        Span<char> chars = stackalloc char[512];
        w.Append('"');
        for (var rest = raw[1..^1]; !rest.IsEmpty;)
        {
            var slash = rest.IndexOf((byte)'\\');
            var run = slash < 0 ? rest : rest[..slash];
            while (!run.IsEmpty)
            {
                // Only whole sequences are transcoded when the buffer fills, so none is split between pieces.
                Utf8.ToUtf16(run, chars, out var read, out var written);
                WriteEscaped(ref w, chars[..written]);
                run = run[read..];
            }

            if (slash < 0)
            {
                break;
            }

            rest = rest[slash..];
            if (rest[1] != (byte)'u')
            {
                WriteEscaped(ref w, [rest[1] switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    var other => (char)other,   // " \ /
                }]);
                rest = rest[2..];
                continue;
            }

            var c = Hex4(rest.Slice(2, 4));
            if (!char.IsSurrogate(c))
            {
                WriteEscaped(ref w, [c]);
                rest = rest[6..];
                continue;
            }

            // As GetString reads it: a surrogate only as the first half of an escaped pair.
            if (!char.IsHighSurrogate(c) || rest.Length < 12 || rest[6] != (byte)'\\' || rest[7] != (byte)'u' || Hex4(rest.Slice(8, 4)) is var low && !char.IsLowSurrogate(low))
            {
                throw new InvalidOperationException("Cannot read incomplete UTF-16 JSON text as string.");
            }

            WriteEscaped(ref w, [c, low]);
            rest = rest[12..];
        }

        w.Append('"');
    }

    private static char Hex4(ReadOnlySpan<byte> digits) => (char)int.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static void WriteString(ref CanonicalJsonWriter w, scoped ReadOnlySpan<char> s)
    {
        w.Append('"');
        WriteEscaped(ref w, s);
        w.Append('"');
    }

    private static void WriteEscaped(ref CanonicalJsonWriter w, scoped ReadOnlySpan<char> s)
    {
        // The runs between characters to escape are copied whole.
        for (var next = s.IndexOfAny(Escaped); next >= 0; next = s.IndexOfAny(Escaped))
        {
            w.Append(s[..next]);
            var c = s[next];
            switch (c)
            {
                case '"': w.Append("\\\""); break;
                case '\\': w.Append("\\\\"); break;
                case '\b': w.Append("\\b"); break;
                case '\f': w.Append("\\f"); break;
                case '\n': w.Append("\\n"); break;
                case '\r': w.Append("\\r"); break;
                case '\t': w.Append("\\t"); break;
                default:
                    w.Append("\\u00");
                    w.Append("0123456789abcdef"[c >> 4]);
                    w.Append("0123456789abcdef"[c & 0xf]);
                    break;
            }

            s = s[(next + 1)..];
        }

        w.Append(s);
    }

    /// <summary>Formats a number as ECMAScript's Number.prototype.toString does (RFC 8785 section 3.2.2.3).</summary>
    internal static string FormatNumber(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN or Infinity.");
        }

        if (value == 0)
        {
            return "0";
        }

        // "R" gives the shortest round-trip digits; take them apart into digits and decimal exponent n.
        var r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int n;
        var ePos = r.IndexOf('E', StringComparison.Ordinal);
        var mantissa = ePos >= 0 ? r[..ePos] : r;
        var exp = ePos >= 0 ? int.Parse(r[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        n = intPart.Length - leadingZeros + exp;
        digits = digits.TrimEnd('0');
        var k = digits.Length;

        string result;
        if (k <= n && n <= 21)
        {
            result = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            result = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            result = "0." + new string('0', -n) + digits;
        }
        else
        {
            var e = n - 1;
            var m = k == 1 ? digits : digits[..1] + "." + digits[1..];
            result = m + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }

        return value < 0 ? "-" + result : result;
    }
}
