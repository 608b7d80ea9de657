using System.Text.RegularExpressions;

namespace Gateway.Core.VirtualServers;

/// <summary>A virtual server as the API, the console and configuration read and write it.</summary>
/// <param name="Name">The name (<see cref="Names.Rule"/>): the endpoint is <c>/mcp/{name}</c>.</param>
/// <param name="Title">What a console or client shows; optional.</param>
/// <param name="Description">What the endpoint is for; optional.</param>
/// <param name="Discovery"><c>list</c> (the default) or <c>search</c>.</param>
/// <param name="Tools">The tools, each <c>server</c> and <c>tool</c> (its original name) with optional overrides.</param>
/// <param name="Agents">The agents limited to this virtual server: names and <c>tag:name</c> (see <see cref="VirtualServer.Agents"/>).</param>
/// <param name="Prompts">The prompts, each <c>server</c> and <c>prompt</c> (its original name) with optional overrides.</param>
/// <param name="Resources">The resources and resource templates, each <c>server</c> and <c>uri</c> (a resource's URI or a template's URI template) with optional overrides.</param>
/// <param name="ManagedByConfiguration">Whether configuration defines it (then it is read-only here).</param>
public sealed partial record VirtualServerDocument(
    string? Name,
    string? Title = null,
    string? Description = null,
    string? Discovery = null,
    IReadOnlyList<VirtualToolDocument>? Tools = null,
    IReadOnlyList<string>? Agents = null,
    IReadOnlyList<VirtualPromptDocument>? Prompts = null,
    IReadOnlyList<VirtualResourceDocument>? Resources = null,
    bool ManagedByConfiguration = false)
{
    /// <summary>The document of a virtual server.</summary>
    public static VirtualServerDocument From(VirtualServer server) => new(
        server.Name,
        server.Title,
        server.Description,
        ToolDiscoveries.Name(server.Discovery),
        [.. server.Tools.Select(t => new VirtualToolDocument(t.Server, t.Tool, t.Name, t.Title, t.Description))],
        server.Agents,
        [.. server.Prompts.Select(p => new VirtualPromptDocument(p.Server, p.Prompt, p.Name, p.Title, p.Description))],
        [.. server.Resources.Select(r => new VirtualResourceDocument(r.Server, r.Uri, r.Title, r.Description, r.Name))],
        server.ManagedByConfiguration);

    /// <summary>
    /// The virtual server, or <see langword="null"/> with every problem in <paramref name="errors"/> by field (camelCase,
    /// as in the document: <c>tools[2].name</c>). Two tools or two prompts under one name, or two resources under one URI,
    /// are refused here, at save time, naming both.
    /// </summary>
    public VirtualServer? ToServer(IDictionary<string, string[]> errors)
    {
        if (!Names.IsValid(Name))
        {
            errors["name"] = [Names.Rule];
        }

        CheckText(errors, "title", Title, VirtualServer.MaxTitleLength);
        CheckText(errors, "description", Description, VirtualServer.MaxDescriptionLength);
        var discovery = ToolDiscoveries.Parse(Discovery);
        if (discovery is null)
        {
            errors["discovery"] = [ToolDiscoveries.Rule];
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

        var prompts = ReadPrompts(errors);
        var resources = ReadResources(errors);
        return errors.Count > 0 ? null : new VirtualServer(Name!, Blank(Title), Blank(Description), discovery!.Value, members)
        {
            Agents = agents,
            Prompts = prompts,
            Resources = resources,
            ManagedByConfiguration = ManagedByConfiguration,
        };
    }

    private List<VirtualPrompt> ReadPrompts(IDictionary<string, string[]> errors)
    {
        var prompts = Prompts ?? [];
        if (prompts.Count > VirtualServer.MaxPrompts)
        {
            errors["prompts"] = [$"At most {VirtualServer.MaxPrompts} prompts (there are {prompts.Count})."];
            return [];
        }

        var members = new List<VirtualPrompt>(prompts.Count);
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var byPrompt = new Dictionary<(string, string), int>();
        for (var i = 0; i < prompts.Count; i++)
        {
            var at = $"prompts[{i}]";
            var before = errors.Count;
            if (prompts[i] is not { } prompt)
            {
                errors[at] = ["A prompt: server and prompt, with optional name, title and description."];
                continue;
            }

            if (!Names.IsValid(prompt.Server))
            {
                errors[$"{at}.server"] = ["The upstream server's name. " + Names.Rule];
            }

            if (!IsUpstreamName(prompt.Prompt))
            {
                errors[$"{at}.prompt"] = [$"The prompt's original name on its server: 1 to {MaxUpstreamNameLength} characters, without control characters."];
            }

            var name = Blank(prompt.Name);
            if (name is not null && !ToolNamePattern().IsMatch(name))
            {
                errors[$"{at}.name"] = [$"The name agents see: {ToolNameRule} Leave it empty to keep the original name."];
            }

            CheckText(errors, $"{at}.title", prompt.Title, VirtualServer.MaxTitleLength);
            CheckText(errors, $"{at}.description", prompt.Description, VirtualServer.MaxDescriptionLength);
            if (errors.Count > before)
            {
                continue;
            }

            var member = new VirtualPrompt(prompt.Server!, prompt.Prompt!, name, Blank(prompt.Title), Blank(prompt.Description));
            if (byPrompt.TryGetValue((member.Server, member.Prompt), out var same))
            {
                errors[$"{at}.prompt"] = [$"'{member.Server}/{member.Prompt}' is already prompts[{same}]; a prompt is in a virtual server once."];
                continue;
            }

            if (byName.TryGetValue(member.ExposedName, out var other))
            {
                var first = members[other];
                errors[$"{at}.name"] = [$"Name collision: '{member.ExposedName}' ({member.Server}/{member.Prompt}) is already the name of prompts[{other}] ({first.Server}/{first.Prompt}); rename one of them."];
                continue;
            }

            byPrompt[(member.Server, member.Prompt)] = members.Count;
            byName[member.ExposedName] = members.Count;
            members.Add(member);
        }

        return members;
    }

    private List<VirtualResource> ReadResources(IDictionary<string, string[]> errors)
    {
        var resources = Resources ?? [];
        if (resources.Count > VirtualServer.MaxResources)
        {
            errors["resources"] = [$"At most {VirtualServer.MaxResources} resources and templates (there are {resources.Count})."];
            return [];
        }

        var members = new List<VirtualResource>(resources.Count);
        var byUri = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < resources.Count; i++)
        {
            var at = $"resources[{i}]";
            var before = errors.Count;
            if (resources[i] is not { } resource)
            {
                errors[at] = ["A resource: server and uri (a resource's URI or a template's URI template), with optional title and description."];
                continue;
            }

            if (!Names.IsValid(resource.Server))
            {
                errors[$"{at}.server"] = ["The upstream server's name. " + Names.Rule];
            }

            if (resource.Uri is null || resource.Uri.Length is 0 or > VirtualServer.MaxUriLength || resource.Uri.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                errors[$"{at}.uri"] = [$"The resource's URI or the template's URI template as its server lists it: 1 to {VirtualServer.MaxUriLength:N0} characters, without spaces or control characters."];
            }

            CheckText(errors, $"{at}.name", resource.Name, VirtualServer.MaxTitleLength);
            CheckText(errors, $"{at}.title", resource.Title, VirtualServer.MaxTitleLength);
            CheckText(errors, $"{at}.description", resource.Description, VirtualServer.MaxDescriptionLength);
            if (errors.Count > before)
            {
                continue;
            }

            var member = new VirtualResource(resource.Server!, resource.Uri!, Blank(resource.Title), Blank(resource.Description), Blank(resource.Name));
            if (byUri.TryGetValue(member.Uri, out var other))
            {
                // A URI routes to one upstream: the same URI twice (from one server or two) would make reading it ambiguous.
                var first = members[other];
                errors[$"{at}.uri"] = [$"URI collision: '{member.Uri}' ({member.Server}) is already resources[{other}] ({first.Server}); a URI is in a virtual server once."];
                continue;
            }

            byUri[member.Uri] = members.Count;
            members.Add(member);
        }

        return members;
    }

    /// <summary>The names of the two tools the search discovery mode lists: no picked tool may take them.</summary>
    public const string SearchToolName = "search_tools";

    /// <inheritdoc cref="SearchToolName"/>
    public const string CallToolName = "call_tool";

    /// <summary>The longest original prompt name a pick may give (an upstream's names are its own; this only bounds the document).</summary>
    public const int MaxUpstreamNameLength = 256;

    /// <summary>The rule for tool names (the characters SEP-986 allows), as a message.</summary>
    public const string ToolNameRule = "1 to 128 letters, digits, '_', '-' or '.'.";

    private static void CheckText(IDictionary<string, string[]> errors, string field, string? value, int max)
    {
        if (value is not null && (value.Length > max || value.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t')))
        {
            errors[field] = [$"At most {max:N0} characters, without control characters."];
        }
    }

    private static bool IsUpstreamName(string? value) =>
        value is { Length: > 0 and <= MaxUpstreamNameLength } && !value.Any(char.IsControl);

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

/// <summary>One prompt of a <see cref="VirtualServerDocument"/>.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Prompt">The prompt's original name on it.</param>
/// <param name="Name">The name agents see; empty keeps the original name.</param>
/// <param name="Title">The title agents see; empty keeps the upstream's.</param>
/// <param name="Description">The description agents see; empty keeps the upstream's.</param>
public sealed record VirtualPromptDocument(string? Server, string? Prompt, string? Name = null, string? Title = null, string? Description = null);

/// <summary>One resource or resource template of a <see cref="VirtualServerDocument"/>.</summary>
/// <param name="Server">The upstream server.</param>
/// <param name="Uri">The resource's URI, or the template's URI template, as the upstream lists it (agents see it unchanged).</param>
/// <param name="Title">The title agents see; empty keeps the upstream's.</param>
/// <param name="Description">The description agents see; empty keeps the upstream's.</param>
/// <param name="Name">The resource's name (its display name; the URI stays) agents see; empty keeps the upstream's.</param>
public sealed record VirtualResourceDocument(string? Server, string? Uri, string? Title = null, string? Description = null, string? Name = null);
