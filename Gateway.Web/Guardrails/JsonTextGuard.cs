using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Guardrails;

namespace Gateway.Web.Guardrails;

/// <summary>
/// Walks every string (and every property name) of a JSON value through a server's guard: a tool result's structured
/// content, the questions of an upstream's input-required result.
/// </summary>
internal static class JsonTextGuard
{
    // Property names are the upstream's: only plain short ones go into a location (the audit keeps it); others are
    // named by their position, so a secret or hidden text used as a key never reaches the trail.
    private static readonly SearchValues<char> PlainName = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    /// <summary>The rewritten node, or <see langword="null"/> when nothing under it changed.</summary>
    public static JsonNode? Rewrite(JsonElement element, string path, ServerResultGuard guard, ResultScan scan, int depth = 0)
    {
        // The SDK's reader caps nesting at 64; deeper nodes cannot arrive, this only keeps the recursion bounded.
        if (depth > 64)
        {
            return null;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var text = element.GetString()!;
                var inspected = guard.Inspect(text, path, scan);
                return ReferenceEquals(inspected, text) ? null : JsonValue.Create(inspected);
            case JsonValueKind.Object:
                List<(string Name, string NewName, JsonNode? Node)>? changed = null;
                var position = 0;
                foreach (var property in element.EnumerateObject())
                {
                    var name = property.Name;

                    // A key is text the agent reads too, and a plain-looking one can be a secret (an AWS key id is
                    // letters and digits): every key is inspected, under its position, and named in locations only
                    // when it is plain and nothing was found in it.
                    var positional = $"{path}{{#{position}}}";
                    var seen = scan.Findings.Count + scan.Dropped;
                    var newName = guard.Inspect(name, positional + ".key", scan);
                    var plain = ReferenceEquals(newName, name) && scan.Findings.Count + scan.Dropped == seen
                        && name.Length is > 0 and <= 64 && !name.AsSpan().ContainsAnyExcept(PlainName);
                    var segment = plain ? $"{path}.{name}" : positional;
                    var node = Rewrite(property.Value, segment, guard, scan, depth + 1);
                    if (node is not null || !ReferenceEquals(newName, name))
                    {
                        (changed ??= []).Add((name, newName, node));
                    }

                    position++;
                }

                if (changed is null)
                {
                    return null;
                }

                var obj = JsonNode.Parse(element.GetRawText())!.AsObject();
                foreach (var (name, newName, node) in changed)
                {
                    var value = node ?? obj[name]?.DeepClone();
                    obj.Remove(name);
                    obj[newName] = value;
                }

                return obj;
            case JsonValueKind.Array:
                List<(int Index, JsonNode Node)>? items = null;
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Rewrite(item, $"{path}[{index}]", guard, scan, depth + 1) is { } node)
                    {
                        (items ??= []).Add((index, node));
                    }

                    index++;
                }

                if (items is null)
                {
                    return null;
                }

                var array = JsonNode.Parse(element.GetRawText())!.AsArray();
                foreach (var (i, node) in items)
                {
                    array[i] = node;
                }

                return array;
            default:
                return null;
        }
    }
}
