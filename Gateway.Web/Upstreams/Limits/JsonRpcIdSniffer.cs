using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Finds the id of a JSON-RPC message from its first and last bytes only (the middle of an oversized message is never
/// held). Serializers put the id first (.NET, Python) or last (the TypeScript SDK writes <c>result</c>, <c>jsonrpc</c>,
/// <c>id</c>), so one of the two ends has it.
/// </summary>
internal static partial class JsonRpcIdSniffer
{
    private const int MaxStringIdLength = 256;

    /// <summary>Reads the top-level members in a prefix of a message until its id and kind are known or the prefix ends.</summary>
    /// <returns>The id as JSON (or <see langword="null"/>), and whether the message is a request or notification (it has a <c>method</c>).</returns>
    public static (string? IdJson, bool IsRequest) FromHead(ReadOnlySpan<byte> head)
    {
        var start = head.IndexOf((byte)'{');
        if (start < 0)
        {
            return (null, false);
        }

        var reader = new Utf8JsonReader(head[start..], isFinalBlock: false, state: default);
        string? id = null;
        var isRequest = false;
        var isResponse = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, false);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && (id is null || !(isRequest || isResponse)))
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    if (!reader.Read() || (id = IdOf(ref reader)) is null)
                    {
                        break;
                    }
                }
                else
                {
                    isRequest |= reader.ValueTextEquals("method"u8);
                    isResponse |= reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8);
                    if (!reader.TrySkip())
                    {
                        // The value runs past the prefix: the rest is the tail's to tell.
                        break;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: there is nothing to answer.
        }

        return (id, isRequest && !isResponse);
    }

    /// <summary>Finds the id when it is the last top-level member (possibly followed by <c>"jsonrpc":"2.0"</c>) of a message's last bytes.</summary>
    public static string? FromTail(ReadOnlySpan<byte> tail)
    {
        var match = TrailingId().Match(Encoding.UTF8.GetString(tail));
        if (!match.Success)
        {
            return null;
        }

        var literal = match.Groups["id"].Value;
        if (literal[0] != '"')
        {
            return long.TryParse(literal, out var number) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        }

        try
        {
            // Re-encoded, so only a well-formed string literal is ever written back.
            return JsonSerializer.Deserialize<string>(literal) is { } text ? JsonSerializer.Serialize(text) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? IdOf(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
        JsonTokenType.String when reader.ValueSpan.Length <= MaxStringIdLength => JsonSerializer.Serialize(reader.GetString()),
        _ => null,
    };

    [GeneratedRegex("""
        "id"\s*:\s*(?<id>-?\d{1,19}|"(?:[^"\\\u0000-\u001f]|\\.){0,256}")\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$
        """, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex TrailingId();
}
