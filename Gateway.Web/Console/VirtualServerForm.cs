using Gateway.Core.VirtualServers;

namespace Gateway.Web.Console;

/// <summary>
/// A virtual server as typed in the console: its tools one a line, <c>server/tool</c>, optionally <c>-&gt; name</c> and
/// <c>| description</c> (<c>github/search_issues -&gt; find_bugs | Finds open bugs.</c>); its agents comma-separated.
/// </summary>
public sealed class VirtualServerForm
{
    public string? Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }

    public string Discovery { get; set; } = "list";

    public string? Tools { get; set; }

    public string? Agents { get; set; }

    public void Load(VirtualServerDocument server)
    {
        (Name, Title, Description, Discovery) = (server.Name, server.Title, server.Description, server.Discovery ?? "list");
        Tools = string.Join('\n', (server.Tools ?? []).Select(t =>
            $"{t.Server}/{t.Tool}" + (t.Name is null ? string.Empty : $" -> {t.Name}") + (t.Description is null ? string.Empty : $" | {t.Description.ReplaceLineEndings(" ")}")));
        Agents = string.Join(", ", server.Agents ?? []);
    }

    /// <summary>The document to save; a line's problems land under the operation's field names (<c>tools[2].name</c>), which <see cref="LineOf"/> maps back.</summary>
    public VirtualServerDocument Parse()
    {
        var tools = new List<VirtualToolDocument>();
        foreach (var line in (Tools ?? string.Empty).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            var (pick, description) = Split(line, '|');
            var (path, name) = Split(pick, "->");
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            tools.Add(slash < 0
                ? new VirtualToolDocument(path, null, name, null, description)
                : new VirtualToolDocument(path[..slash].Trim(), path[(slash + 1)..].Trim(), name, null, description));
        }

        var agents = (Agents ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new VirtualServerDocument(Name?.Trim(), Title, Description, Discovery, tools, agents);
    }

    /// <summary>The 1-based line an error field names (<c>tools[2].name</c> is line 3), or null for a field of the server itself.</summary>
    public static int? LineOf(string field) =>
        field.StartsWith("tools[", StringComparison.Ordinal) && field.IndexOf(']', StringComparison.Ordinal) is > 6 and var end
            && int.TryParse(field.AsSpan(6, end - 6), System.Globalization.CultureInfo.InvariantCulture, out var index) ? index + 1 : null;

    private static (string Before, string? After) Split(string text, string separator)
    {
        var at = text.IndexOf(separator, StringComparison.Ordinal);
        return at < 0 ? (text.Trim(), null) : (text[..at].Trim(), text[(at + separator.Length)..].Trim() is { Length: > 0 } after ? after : null);
    }

    private static (string Before, string? After) Split(string text, char separator) => Split(text, separator.ToString());
}
