using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// SEP-2243 on the gateway's own endpoint: a tool argument whose schema property carries <c>x-mcp-header</c> travels in
/// an <c>Mcp-Param-{Name}</c> header too (so intermediaries can route on it), and the two must agree. The SDK's server
/// checks this only for tools in its own tool collection, and the gateway's tools come from a handler, so the gateway
/// checks it here against the tool it exposes; a mismatch is -32020 (HTTP 400), as the SDK answers. The rules follow the
/// SDK 2.4.0 server (StreamableHttpHandler): a header must be present for a non-null argument, contain only visible
/// ASCII, decode (plain or base64 form), and equal the argument; integers compare as numbers within 2^53-1.
/// </summary>
internal static class ParamHeaderValidation
{
    private const string ParamPrefix = "Mcp-Param-";
    private const long MaxSafeInteger = 9007199254740991L;

    // Nested objects in a schema are followed at most this deep: the schema is the upstream's, bounded like the rest.
    private const int MaxDepth = 16;

    private static readonly SearchValues<char> ValidHeaderChars =
        SearchValues.Create("\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Set on a request whose headers <see cref="ParamHeaderMiddleware"/> already checked.</summary>
    internal const string CheckedKey = "gateway.param-headers-checked";

    /// <summary>Checks the call's headers against its arguments; throws -32020 on a mismatch.</summary>
    public static void Check(HttpContext? http, Tool tool, IDictionary<string, JsonElement>? arguments)
    {
        // Cheap tests first: this runs on every call, and almost no tool declares such headers.
        if (http is null || !IsPerRequest(http) || !Declares(tool) || http.Items.ContainsKey(CheckedKey))
        {
            return;
        }

        var args = arguments is null ? null : JsonSerializer.SerializeToNode(arguments, McpJsonUtilities.DefaultOptions);
        if (Mismatch(http, tool, args) is { } message)
        {
            throw new McpProtocolException(message, McpErrorCode.HeaderMismatch);
        }
    }

    /// <summary>The mismatch of the call's headers with its arguments, or null when they agree (or the request has none to agree on).</summary>
    public static string? Mismatch(HttpContext http, Tool tool, JsonNode? arguments)
    {
        // Only per-request (2026-07-28) HTTP requests carry these headers; sessions of 2025-11-25 never had them.
        if (!IsPerRequest(http) || tool.InputSchema.ValueKind != JsonValueKind.Object
            || !tool.InputSchema.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return Mismatch(http.Request.Headers, properties, arguments, 0);
    }

    /// <summary>Whether the request is of the per-request era (2026-07-28 and later).</summary>
    public static bool IsPerRequest(HttpContext http) =>
        ProtocolRevisions.IsPerRequest(http.Request.Headers["MCP-Protocol-Version"].ToString());

    // Whether a tool's schema has any x-mcp-header property, found once per tool definition.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tool, object> Declaring = new();

    /// <summary>Whether the tool has any parameter annotated with <c>x-mcp-header</c>.</summary>
    public static bool Declares(Tool tool) =>
        Declaring.GetValue(tool, t => t.InputSchema.ValueKind == JsonValueKind.Object && t.InputSchema.GetRawText().Contains("\"x-mcp-header\"", StringComparison.Ordinal)) is true;

    private static string? Mismatch(IHeaderDictionary headers, JsonElement properties, JsonNode? arguments, int depth)
    {
        foreach (var property in properties.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (depth < MaxDepth && property.Value.TryGetProperty("properties", out var nested) && nested.ValueKind == JsonValueKind.Object
                && Mismatch(headers, nested, (arguments as JsonObject)?[property.Name], depth + 1) is { } inner)
            {
                return inner;
            }

            if (!property.Value.TryGetProperty("x-mcp-header", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
                || nameElement.GetString() is not { Length: > 0 } name)
            {
                continue;
            }

            var header = ParamPrefix + name;
            var argument = (arguments as JsonObject)?[property.Name];
            if (!headers.TryGetValue(header, out var values))
            {
                // A null or absent argument has no header; a present one must have it.
                if (argument is not null && argument.GetValueKind() != JsonValueKind.Null)
                {
                    return $"Missing required {header} header for parameter '{property.Name}' annotated with x-mcp-header.";
                }

                continue;
            }

            var actual = values.ToString().Trim();
            if (actual.AsSpan().IndexOfAnyExcept(ValidHeaderChars) >= 0)
            {
                return $"Header mismatch: {header} header contains invalid characters.";
            }

            if (McpHeaderEncoder.DecodeValue(actual) is not { } decoded)
            {
                return $"Header mismatch: {header} header contains invalid Base64 encoding.";
            }

            if (argument is not null && McpHeaderEncoder.ConvertToHeaderValue(argument) is { } expectedHeader
                && !Matches(decoded, McpHeaderEncoder.DecodeValue(expectedHeader), property.Value, out var outOfRange))
            {
                return outOfRange
                    ? $"Header mismatch: {header} integer value for parameter '{property.Name}' is outside the JavaScript safe integer range."
                    : $"Header mismatch: {header} header value does not match body argument '{property.Name}'.";
            }
        }

        return null;
    }

    private static bool Matches(string actual, string? expected, JsonElement schema, out bool outOfRange)
    {
        outOfRange = false;
        if (expected is not null && IsInteger(schema))
        {
            var a = ParseInteger(actual, out var av);
            var e = ParseInteger(expected, out var ev);
            if (a == Parsed.OutOfRange || e == Parsed.OutOfRange)
            {
                outOfRange = true;
                return false;
            }

            if (a == Parsed.Integer && e == Parsed.Integer)
            {
                return av == ev;
            }

            if (a == Parsed.Fraction || e == Parsed.Fraction)
            {
                return false;
            }
        }

        return string.Equals(actual, expected, StringComparison.Ordinal);
    }

    private static bool IsInteger(JsonElement schema) =>
        schema.TryGetProperty("type", out var type) && type.ValueKind switch
        {
            JsonValueKind.String => type.ValueEquals("integer"),
            JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.ValueEquals("integer")),
            _ => false,
        };

    private enum Parsed { Integer, OutOfRange, Fraction, NotNumeric }

    private static Parsed ParseInteger(string text, out long value)
    {
        const NumberStyles Styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        value = 0;
        if (long.TryParse(text, Styles, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return parsed is < -MaxSafeInteger or > MaxSafeInteger ? Parsed.OutOfRange : Parsed.Integer;
        }

        return double.TryParse(text, Styles, CultureInfo.InvariantCulture, out var d)
            ? Math.Abs(d) > MaxSafeInteger ? Parsed.OutOfRange : Parsed.Fraction
            : Parsed.NotNumeric;
    }
}
