using System.Text.RegularExpressions;

namespace Gateway.Core.VirtualServers;

/// <summary>A virtual server as the API, the console and configuration read and write it.</summary>
/// <param name="Name">The name (<see cref="Names.Rule"/>): the endpoint is <c>/mcp/{name}</c>.</param>
/// <param name="Title">What a console or client shows; optional.</param>
/// <param name="Description">What the endpoint is for; optional.</param>
/// <param name="Discovery"><c>list</c> (the default) or <c>search</c>.</param>
/// <param name="Tools">The tools, each <c>server</c> and <c>tool</c> (its original name) with optional overrides.</param>
/// <param name="Agents">The agents limited to this virtual server: names and <c>tag:name</c> (see <see cref="VirtualServer.Agents"/>).</param>
/// <param name="ManagedByConfiguration">Whether configuration defines it (then it is read-only here).</param>
public sealed partial record VirtualServerDocument(
    string? Name,
    string? Title = null,
    string? Description = null,
    string? Discovery = null,
    IReadOnlyList<VirtualToolDocument>? Tools = null,
    IReadOnlyList<string>? Agents = null,
    bool ManagedByConfiguration = false)
{
    /// <summary>The document of a virtual server.</summary>
    public static VirtualServerDocument From(VirtualServer server) => new(
        server.Name,
        server.Title,
        server.Description,
        server.Discovery == ToolDiscovery.Search ? "search" : "list",
        [.. server.Tools.Select(t => new VirtualToolDocument(t.Server, t.Tool, t.Name, t.Title, t.Description))],
        server.Agents,
        server.ManagedByConfiguration);

    /// <summary>
    /// The virtual server, or <see langword="null"/> with every problem in <paramref name="errors"/> by field (camelCase,
    /// as in the document: <c>tools[2].name</c>). Two tools under one name are refused here, at save time, naming both.
    /// </summary>
    public VirtualServer? ToServer(IDictionary<string, string[]> errors)
    {
        if (!Names.IsValid(Name))
        {
            errors["name"] = [Names.Rule];
        }

        CheckText(errors, "title", Title, VirtualServer.MaxTitleLength);
        CheckText(errors, "description", Description, VirtualServer.MaxDescriptionLength);
        var discovery = Discovery?.Trim().ToLowerInvariant() switch
        {
            null or "" or "list" => ToolDiscovery.List,
            "search" => ToolDiscovery.Search,
            _ => (ToolDiscovery?)null,
        };
        if (discovery is null)
        {
            errors["discovery"] = ["'list' (every tool in tools/list) or 'search' (search_tools and call_tool)."];
        }

        var agents = (Agents ?? []).Select(a => a?.Trim() ?? string.Empty).Distinct(StringComparer.Ordinal).ToList();
        if (agents.Count > VirtualServer.MaxAgents)
        {
            errors["agents"] = [$"At most {VirtualServer.MaxAgents} agents and tags."];
        }
        else if (agents.Where(a => !Names.IsValid(a.StartsWith("tag:", StringComparison.Ordinal) ? a[4..] : a)).ToArray() is { Length: > 0 } bad)
        {
            errors["agents"] = [.. bad.Select(a => $"'{a}': an agent's name or tag:name. {Names.Rule}")];
        }

        var tools = Tools ?? [];
        if (tools.Count > VirtualServer.MaxTools)
        {
            errors["tools"] = [$"At most {VirtualServer.MaxTools} tools (there are {tools.Count})."];
            return null;
        }

        var members = new List<VirtualTool>(tools.Count);
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var byTool = new Dictionary<(string, string), int>();
        for (var i = 0; i < tools.Count; i++)
        {
            var at = $"tools[{i}]";
            if (tools[i] is not { } tool)
            {
                errors[at] = ["A tool: server and tool, with optional name, title and description."];
                continue;
            }

            if (!Names.IsValid(tool.Server))
            {
                errors[$"{at}.server"] = ["The upstream server's name. " + Names.Rule];
            }

            if (tool.Tool is null || !ToolNamePattern().IsMatch(tool.Tool))
            {
                errors[$"{at}.tool"] = [$"The tool's original name on its server: {ToolNameRule}"];
            }

            var name = Blank(tool.Name);
            if (name is not null && !ToolNamePattern().IsMatch(name))
            {
                errors[$"{at}.name"] = [$"The name agents see: {ToolNameRule} Leave it empty to keep the original name."];
            }

            CheckText(errors, $"{at}.title", tool.Title, VirtualServer.MaxTitleLength);
            CheckText(errors, $"{at}.description", tool.Description, VirtualServer.MaxDescriptionLength);
            if (tool.Server is null || tool.Tool is null)
            {
                continue;
            }

            var member = new VirtualTool(tool.Server, tool.Tool, name, Blank(tool.Title), Blank(tool.Description));
            if (byTool.TryGetValue((member.Server, member.Tool), out var same))
            {
                errors[$"{at}.tool"] = [$"'{member.Server}/{member.Tool}' is already tools[{same}]; a tool is in a virtual server once."];
                continue;
            }

            if (byName.TryGetValue(member.ExposedName, out var other))
            {
                var first = members[other];
                errors[$"{at}.name"] = [$"Name collision: '{member.ExposedName}' ({member.Server}/{member.Tool}) is already the name of tools[{other}] ({first.Server}/{first.Tool}); rename one of them."];
                continue;
            }

            if (discovery == ToolDiscovery.Search && member.ExposedName is SearchToolName or CallToolName)
            {
                errors[$"{at}.name"] = [$"'{member.ExposedName}' is the name of a gateway tool in search discovery; rename this one."];
                continue;
            }

            byTool[(member.Server, member.Tool)] = members.Count;
            byName[member.ExposedName] = members.Count;
            members.Add(member);
        }

        return errors.Count > 0 ? null : new VirtualServer(Name!, Blank(Title), Blank(Description), discovery!.Value, members) { Agents = agents, ManagedByConfiguration = ManagedByConfiguration };
    }

    /// <summary>The names of the two tools the search discovery mode lists: no picked tool may take them.</summary>
    public const string SearchToolName = "search_tools";

    /// <inheritdoc cref="SearchToolName"/>
    public const string CallToolName = "call_tool";

    /// <summary>The rule for tool names (the characters SEP-986 allows), as a message.</summary>
    public const string ToolNameRule = "1 to 128 letters, digits, '_', '-' or '.'.";

    private static void CheckText(IDictionary<string, string[]> errors, string field, string? value, int max)
    {
        if (value is not null && (value.Length > max || value.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t')))
        {
            errors[field] = [$"At most {max:N0} characters, without control characters."];
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex ToolNamePattern();
}

/// <summary>One tool of a <see cref="VirtualServerDocument"/>.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Tool">The tool's original name on it.</param>
/// <param name="Name">The name agents see; empty keeps the original name.</param>
/// <param name="Title">The title agents see; empty keeps the upstream's.</param>
/// <param name="Description">The description agents see; empty keeps the upstream's.</param>
public sealed record VirtualToolDocument(string? Server, string? Tool, string? Name = null, string? Title = null, string? Description = null);
