using Gateway.Core.VirtualServers;

namespace Gateway.Web.Console;

/// <summary>
/// A virtual server as typed in the console: its tools one a line, <c>server/tool</c>, optionally <c>-&gt; name</c> and
/// <c>| description</c> (<c>github/search_issues -&gt; find_bugs | Finds open bugs.</c>); its prompts the same way
/// (<c>server/prompt</c>); its resources one a line, <c>server/uri</c> (a resource's URI or a template's URI template)
/// and optionally <c>| description</c>; its agents comma-separated.
/// </summary>
public sealed class VirtualServerForm
{
    public string? Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }

    public string Discovery { get; set; } = "list";

    public string? Tools { get; set; }

    public string? Prompts { get; set; }

    public string? Resources { get; set; }

    public string? Agents { get; set; }

    public void Load(VirtualServerDocument server)
    {
        (Name, Title, Description, Discovery) = (server.Name, server.Title, server.Description, server.Discovery ?? "list");
        Tools = string.Join('\n', (server.Tools ?? []).Select(t =>
            $"{t.Server}/{t.Tool}" + (t.Name is null ? string.Empty : $" -> {t.Name}") + (t.Description is null ? string.Empty : $" | {t.Description.ReplaceLineEndings(" ")}")));
        Prompts = string.Join('\n', (server.Prompts ?? []).Select(p =>
            $"{p.Server}/{p.Prompt}" + (p.Name is null ? string.Empty : $" -> {p.Name}") + (p.Description is null ? string.Empty : $" | {p.Description.ReplaceLineEndings(" ")}")));
        Resources = string.Join('\n', (server.Resources ?? []).Select(r =>
            $"{r.Server}/{r.Uri}" + (r.Name is null ? string.Empty : $" -> {r.Name}") + (r.Description is null ? string.Empty : $" | {r.Description.ReplaceLineEndings(" ")}")));
        Agents = string.Join(", ", server.Agents ?? []);
    }

    /// <summary>The document to save; a line's problems land under the operation's field names (<c>tools[2].name</c>), which <see cref="LineOf"/> maps back.</summary>
    public VirtualServerDocument Parse()
    {
        var tools = Lines(Tools, withName: true).Select(l => new VirtualToolDocument(l.Server, l.Item, l.Name, null, l.Description)).ToList();
        var prompts = Lines(Prompts, withName: true).Select(l => new VirtualPromptDocument(l.Server, l.Item, l.Name, null, l.Description)).ToList();
        var resources = Lines(Resources, withName: true).Select(l => new VirtualResourceDocument(l.Server, l.Item, null, l.Description, l.Name)).ToList();
        var agents = (Agents ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new VirtualServerDocument(Name?.Trim(), Title, Description, Discovery, tools, agents, prompts, resources);
    }

    /// <summary>
    /// The 1-based line an error field of <paramref name="list"/> names (<c>tools[2].name</c> is line 3 of the tools), or
    /// null for a field of anything else.
    /// </summary>
    public static int? LineOf(string field, string list = "tools") =>
        field.StartsWith(list + "[", StringComparison.Ordinal) && field.IndexOf(']', StringComparison.Ordinal) is var end && end > list.Length + 1
            && int.TryParse(field.AsSpan(list.Length + 1, end - list.Length - 1), System.Globalization.CultureInfo.InvariantCulture, out var index) ? index + 1 : null;

    /// <summary>Reads <c>server/item [-&gt; name] [| description]</c> lines; a resource's URI keeps its own <c>-&gt;</c>, if any.</summary>
    private static IEnumerable<(string Server, string? Item, string? Name, string? Description)> Lines(string? text, bool withName)
    {
        foreach (var line in (text ?? string.Empty).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            var (pick, description) = Split(line, '|');
            var (path, name) = withName ? Split(pick, "->") : (pick, null);
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            yield return slash < 0 ? (path, null, name, description) : (path[..slash].Trim(), path[(slash + 1)..].Trim(), name, description);
        }
    }

    private static (string Before, string? After) Split(string text, string separator)
    {
        var at = text.IndexOf(separator, StringComparison.Ordinal);
        return at < 0 ? (text.Trim(), null) : (text[..at].Trim(), text[(at + separator.Length)..].Trim() is { Length: > 0 } after ? after : null);
    }

    private static (string Before, string? After) Split(string text, char separator) => Split(text, separator.ToString());
}
