using System.Text;
using System.Text.Json;

namespace Gateway.Web.Console;

/// <summary>
/// Reads the arguments an admin typed for "Try it": bounded JSON (<see cref="MaxBytes"/>), an object, and checked
/// against the top level of the tool's input schema (required properties present, declared types kept, no unknown
/// properties when the schema forbids them). Deeper checks are the upstream's, as for an agent's call.
/// </summary>
internal static class TrialArguments
{
    /// <summary>The largest argument text accepted, in UTF-8 bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Parses <paramref name="text"/>; on failure, the messages for the arguments field.</summary>
    public static Dictionary<string, JsonElement>? Parse(string? text, JsonElement schema, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            text = "{}";
        }

        if (Encoding.UTF8.GetByteCount(text) > MaxBytes)
        {
            errors.Add($"Arguments are limited to {MaxBytes / 1024} KiB of JSON.");
            return null;
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            errors.Add($"Not valid JSON: {ex.Message}");
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("Arguments must be a JSON object.");
            return null;
        }

        var arguments = root.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        Check(arguments, schema, errors);
        return errors.Count == 0 ? arguments : null;
    }

    private static void Check(Dictionary<string, JsonElement> arguments, JsonElement schema, List<string> errors)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!))
            {
                if (!arguments.ContainsKey(name))
                {
                    errors.Add($"'{name}' is required.");
                }
            }
        }

        var properties = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var closed = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False;
        foreach (var (name, value) in arguments)
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(name, out var property))
            {
                if (closed)
                {
                    errors.Add($"'{name}' is not a property of this tool.");
                }

                continue;
            }

            if (property.ValueKind == JsonValueKind.Object && property.TryGetProperty("type", out var type) && !HasType(value, type))
            {
                errors.Add($"'{name}' must be {(type.ValueKind == JsonValueKind.Array ? string.Join(" or ", type.EnumerateArray()) : type.ToString())}.");
            }
        }
    }

    // JSON Schema's type names; a type the schema names that we do not know is not ours to refuse.
    private static bool HasType(JsonElement value, JsonElement type) => type.ValueKind switch
    {
        JsonValueKind.String => Is(value, type.GetString()),
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && Is(value, t.GetString())),
        _ => true,
    };

    private static bool Is(JsonElement value, string? type) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && Math.Floor(d) == d,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };
}
