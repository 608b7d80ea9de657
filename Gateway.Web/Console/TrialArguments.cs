using System.Text;
using System.Text.Json;
using Json.Schema;

namespace Gateway.Web.Console;

/// <summary>
/// Reads the arguments an admin typed for "Try it": bounded JSON (<see cref="MaxBytes"/>), an object, checked first
/// against the top level of the tool's input schema (required properties present, declared types kept, no unknown
/// properties when the schema forbids them; short messages by property), then against the whole schema
/// (<see cref="CheckSchemaAsync"/>: nested objects, arrays, enums, bounds), so a mistake is shown before anything is called.
/// </summary>
internal static class TrialArguments
{
    /// <summary>The largest argument text accepted, in UTF-8 bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The largest input schema checked in full; a larger one is checked at the top level only (the upstream checks the rest).</summary>
    public const int MaxSchemaChars = 64 * 1024;

    /// <summary>The most schema errors listed; the rest are counted.</summary>
    public const int MaxSchemaErrors = 10;

    /// <summary>
    /// How long the full schema check may take once it runs (an upstream's schema could hold a pathological pattern).
    /// The first check after start also loads and compiles the checker, which took over 2 s on a loaded CI machine.
    /// </summary>
    public static readonly TimeSpan MaxSchemaTime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Checks <paramref name="arguments"/> against the whole input <paramref name="schema"/> (JSON Schema, by
    /// JsonSchema.Net); the messages for the arguments field, each with where in the arguments it applies. A schema
    /// too large, unreadable or with references outside itself is left to the upstream (as for an agent's call).
    /// </summary>
    public static async Task<List<string>> CheckSchemaAsync(Dictionary<string, JsonElement> arguments, JsonElement schema, CancellationToken cancellationToken)
    {
        var text = schema.ValueKind == JsonValueKind.Object ? schema.GetRawText() : null;
        if (text is null || text.Length > MaxSchemaChars)
        {
            return [];
        }

        EvaluationResults results;
        try
        {
            var parsed = JsonSchema.FromText(text);
            var instance = JsonSerializer.SerializeToNode(arguments);

            // Off the circuit's thread and bounded in time: the schema is the upstream's. The check runs on a thread of
            // its own and its time counts from when it starts, so a busy pool's queue or a loaded machine's start-up is
            // not charged to the schema. A check that runs out of time is abandoned (it finishes without anyone
            // waiting) and the call is not made.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var evaluation = Task.Factory.StartNew(
                () =>
                {
                    started.TrySetResult();
                    return parsed.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            await started.Task.WaitAsync(cancellationToken);
            results = await evaluation.WaitAsync(MaxSchemaTime, cancellationToken);
        }
        catch (TimeoutException)
        {
            return [$"The tool's input schema could not be checked within {MaxSchemaTime.TotalSeconds:0} s; nothing was called."];
        }
        catch (Exception ex) when (ex is JsonException or JsonSchemaException or RefResolutionException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // The schema is not one this checker can read (a draft it does not know, a remote $ref): the upstream decides.
            return [];
        }

        if (results.IsValid)
        {
            return [];
        }

        var all = results.Details
            .Where(d => !d.IsValid && d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Values.Select(message => $"{Where(d.InstanceLocation.ToString())}: {message}"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (all.Count == 0)
        {
            return ["The arguments do not match the tool's input schema."];
        }

        return all.Count <= MaxSchemaErrors ? all : [.. all.Take(MaxSchemaErrors), $"…and {all.Count - MaxSchemaErrors} more."];
    }

    // "/options/depth" reads as 'options.depth' in the messages, as the top-level checks name 'message'.
    private static string Where(string pointer) =>
        pointer.Length == 0 ? "The arguments" : $"'{string.Join('.', pointer.TrimStart('/').Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))}'";

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

        if (Gateway.Web.Protocol.JsonArguments.FirstRepeatedName(root) is { } twice)
        {
            errors.Add($"Arguments name '{twice}' twice.");
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
