using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Gateway.Core.Policy;

/// <summary>
/// A path into a call's arguments: <c>amount</c>, <c>$.order.total</c>, <c>items[0].id</c>. Parsed once when rules are
/// compiled; resolving it allocates nothing.
/// </summary>
public sealed class ArgumentPath
{
    private readonly object[] _segments;

    private ArgumentPath(object[] segments) => _segments = segments;

    /// <summary>Parses a path; the first segment must be a property name.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ArgumentPath? path)
    {
        path = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.StartsWith("$.", StringComparison.Ordinal) ? text[2..] : text;
        var segments = new List<object>();
        foreach (var part in s.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            if (name.Length > 0)
            {
                segments.Add(name);
            }
            else if (segments.Count == 0 || bracket != 0)
            {
                return false;
            }

            var rest = bracket < 0 ? string.Empty : part[bracket..];
            while (rest.Length > 0)
            {
                var close = rest.IndexOf(']', StringComparison.Ordinal);
                if (rest[0] != '[' || close < 2 || !int.TryParse(rest.AsSpan(1, close - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return false;
                }

                segments.Add(index);
                rest = rest[(close + 1)..];
            }
        }

        if (segments.Count == 0 || segments[0] is not string)
        {
            return false;
        }

        path = new ArgumentPath([.. segments]);
        return true;
    }

    /// <summary>Finds the value at the path; <see langword="false"/> when any step is missing.</summary>
    public bool TryResolve(IDictionary<string, JsonElement>? arguments, out JsonElement value)
    {
        value = default;
        if (arguments is null || !arguments.TryGetValue((string)_segments[0], out value))
        {
            return false;
        }

        for (var i = 1; i < _segments.Length; i++)
        {
            switch (_segments[i])
            {
                case string name when value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out var child):
                    value = child;
                    break;
                case int index when value.ValueKind == JsonValueKind.Array && index < value.GetArrayLength():
                    value = value[index];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }
}
