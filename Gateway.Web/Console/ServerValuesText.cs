using Gateway.Core.Servers;

namespace Gateway.Web.Console;

/// <summary>
/// A server's Env (<c>NAME=value</c>) or Headers (<c>Name: value</c>) as the console's one-per-line text field. Secret
/// values are written as <see cref="SecretNames.Placeholder"/>, so the page never holds them; a line left so keeps the
/// stored value (<see cref="SecretNames.KeepStored"/>).
/// </summary>
public static class ServerValuesText
{
    /// <summary>The text of <paramref name="map"/>, secret values masked.</summary>
    public static string Format(IReadOnlyDictionary<string, string> map, char separator) =>
        string.Join('\n', SecretNames.Mask(map).Select(kv => separator == ':' ? $"{kv.Key}: {kv.Value}" : $"{kv.Key}={kv.Value}"));

    /// <summary>The map the text describes; lines without the separator are ignored, later lines win.</summary>
    public static Dictionary<string, string> Parse(string? text, char separator)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (text ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.Split(separator, 2) is [var name, var value] && name.Trim().Length > 0)
            {
                map[name.Trim()] = value.Trim();
            }
        }

        return map;
    }
}
