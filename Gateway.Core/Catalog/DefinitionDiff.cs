using System.Text.Json;

namespace Gateway.Core.Catalog;

/// <summary>One field of a tool definition that differs: its path, the pinned value and the current one (absent: <see langword="null"/>).</summary>
public sealed record DefinitionChange(string Field, string? Old, string? New);

/// <summary>
/// A field-by-field comparison of two tool definitions, so an admin reviewing a changed tool (a rug pull) sees what
/// changed: description, title, each schema property's fields, annotations. Strings compare as text, arrays of plain
/// values (<c>required</c>, <c>enum</c>) as one field; bounded in fields, changes and value length.
/// </summary>
public static class DefinitionDiff
{
    /// <summary>The most changes reported; a definition rewritten beyond that ends with a "… more" change.</summary>
    public const int MaxChanges = 64;

    /// <summary>The most characters of one value shown.</summary>
    public const int MaxValueChars = 4096;

    private const int MaxFields = 2048;
    private const int MaxDepth = 32;

    /// <summary>The changed fields from <paramref name="old"/> to <paramref name="current"/>, in field order.</summary>
    public static IReadOnlyList<DefinitionChange> Compare(JsonElement old, JsonElement current)
    {
        var before = Flatten(old);
        var after = Flatten(current);
        var changes = new List<DefinitionChange>();
        foreach (var field in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var was = before.GetValueOrDefault(field);
            var now = after.GetValueOrDefault(field);
            if (was == now)
            {
                continue;
            }

            if (changes.Count == MaxChanges)
            {
                changes.Add(new DefinitionChange("…", null, "more changes not shown"));
                break;
            }

            changes.Add(new DefinitionChange(field, Bound(was), Bound(now)));
        }

        return changes;
    }

    /// <summary>Parses both definitions (JSON text) and compares them; <see langword="null"/> when either is missing or not JSON.</summary>
    public static IReadOnlyList<DefinitionChange>? Compare(string? old, string? current)
    {
        if (old is null || current is null)
        {
            return null;
        }

        try
        {
            using var a = JsonDocument.Parse(old);
            using var b = JsonDocument.Parse(current);
            return Compare(a.RootElement, b.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Dictionary<string, string> Flatten(JsonElement root)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        Add(root, string.Empty, 0, fields);
        return fields;
    }

    private static void Add(JsonElement element, string path, int depth, Dictionary<string, string> fields)
    {
        if (fields.Count >= MaxFields)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object when depth < MaxDepth:
                foreach (var property in element.EnumerateObject())
                {
                    Add(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name, depth + 1, fields);
                }

                break;
            case JsonValueKind.Array when depth < MaxDepth && element.EnumerateArray().Any(e => e.ValueKind is JsonValueKind.Object or JsonValueKind.Array):
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Add(item, $"{path}[{i++}]", depth + 1, fields);
                }

                break;
            case JsonValueKind.String:
                fields[path] = element.GetString()!;
                break;
            default:
                fields[path] = element.GetRawText();
                break;
        }
    }

    private static string? Bound(string? value) =>
        value is null || value.Length <= MaxValueChars ? value : value[..MaxValueChars] + "…";
}
