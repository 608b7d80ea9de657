using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gateway.Core.Audit;

/// <summary>JSON canonicalization after RFC 8785 (JCS): sorted keys, no whitespace, ECMAScript number and string forms.</summary>
/// <remarks>Two semantically equal JSON documents give the same bytes, so their hashes can be compared and chained.</remarks>
public static class CanonicalJson
{
    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    public static string Serialize(JsonElement element)
    {
        var sb = new StringBuilder();
        Write(sb, element);
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
    public static string Sha256(IEnumerable<KeyValuePair<string, JsonElement>>? properties) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SerializeObject(properties ?? []))));

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

    internal static void Write(StringBuilder sb, JsonElement e, IRewriter? rewriter = null)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(sb, e.EnumerateObject().Select(p => (p.Name, p.Value)), rewriter);
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in e.EnumerateArray())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    Write(sb, item, rewriter);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, rewriter is null ? e.GetString()! : rewriter.RewriteString(e.GetString()!));
                break;
            case JsonValueKind.Number:
                // GetDouble gives infinity for literals beyond the double range (e.g. 1e400); FormatNumber refuses it.
                sb.Append(FormatNumber(e.GetDouble()));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    internal static void WriteObject(StringBuilder sb, IEnumerable<(string Name, JsonElement Value)> properties, IRewriter? rewriter = null)
    {
        sb.Append('{');
        var first = true;

        // RFC 8785 sorts by UTF-16 code units, which is exactly ordinal string comparison.
        foreach (var (name, value) in properties.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            WriteString(sb, name);
            sb.Append(':');
            if (rewriter?.ReplaceProperty(name) is { } replacement)
            {
                WriteString(sb, replacement);
            }
            else
            {
                Write(sb, value, rewriter);
            }
        }

        sb.Append('}');
    }

    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
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
