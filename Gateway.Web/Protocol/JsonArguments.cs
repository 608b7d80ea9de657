using System.Text.Json;

namespace Gateway.Web.Protocol;

/// <summary>
/// Tool arguments read from JSON into a dictionary by name (the policy tester, the console's "Try it", an agent's
/// <c>call_tool</c>): System.Text.Json keeps both of a key given twice, and reading them into a dictionary then threw,
/// which ended the request or the console's circuit. Each names the key back instead.
/// </summary>
internal static class JsonArguments
{
    /// <summary>The longest name a message repeats.</summary>
    private const int MaxShown = 64;

    /// <summary>The first name <paramref name="obj"/> gives twice (cut to 64 characters), or <see langword="null"/>.</summary>
    public static string? FirstRepeatedName(JsonElement obj)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                return property.Name.Length <= MaxShown ? property.Name : property.Name[..MaxShown] + "…";
            }
        }

        return null;
    }
}
