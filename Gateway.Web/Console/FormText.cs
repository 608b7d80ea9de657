namespace Gateway.Web.Console;

/// <summary>How the console's text fields hold lists: one per line (grants, args) or comma-separated (tags, labels).</summary>
public static class FormText
{
    public static string[] Lines(string? text) => (text ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string[] Commas(string? text) => (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
