using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Core.Servers;

/// <summary>One server found in a client's configuration file, ready for review before it is registered.</summary>
/// <param name="Definition">The server as the gateway would register it.</param>
/// <param name="OriginalName">The name in the file (the definition's name is made valid for the gateway).</param>
/// <param name="Notes">What the admin should know before saving: renamed, secrets found, placeholders left.</param>
public sealed record ImportedServer(ServerDefinition Definition, string OriginalName, IReadOnlyList<string> Notes);

/// <summary>
/// Reads the MCP configuration files of the common clients: Claude Desktop / Claude Code / Cursor
/// (<c>{"mcpServers": {...}}</c>) and VS Code (<c>{"servers": {...}}</c>), with stdio (<c>command</c>, <c>args</c>,
/// <c>env</c>) and remote (<c>url</c>, <c>type</c>, <c>headers</c>) entries. Nothing is registered here.
/// </summary>
public static partial class McpConfigImport
{
    /// <summary>Parses a file's text; returns the servers found, or the reason nothing could be read.</summary>
    public static (IReadOnlyList<ImportedServer> Servers, string? Error) Parse(string json)
    {
        JsonDocument document;
        try
        {
            // A name given twice in one object (a server, an env variable) is refused: read into a dictionary it threw,
            // and which of the two was meant is not ours to guess (found by ParserFuzzTests).
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            return ([], "This is not valid JSON: " + ex.Message);
        }
        catch (ArgumentException)
        {
            // Text with a lone surrogate has no UTF-8 form (found by ParserFuzzTests).
            return ([], "This is not valid JSON: the text holds an invalid Unicode character.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !(root.TryGetProperty("mcpServers", out var servers) || root.TryGetProperty("servers", out servers))
                || servers.ValueKind != JsonValueKind.Object)
            {
                return ([], "No \"mcpServers\" (Claude, Cursor) or \"servers\" (VS Code) object was found.");
            }

            var found = new List<ImportedServer>();
            var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in servers.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Object)
                {
                    found.Add(Read(entry.Name, entry.Value, taken));
                }
            }

            return found.Count == 0 ? ([], "The file lists no servers.") : (found, null);
        }
    }

    private static ImportedServer Read(string originalName, JsonElement entry, HashSet<string> taken)
    {
        var notes = new List<string>();
        var name = ValidName(originalName, taken);
        if (name != originalName)
        {
            notes.Add($"Renamed from '{originalName}' (names allow letters, digits, '-' and '_').");
        }

        var command = String(entry, "command");
        var url = String(entry, "url") ?? String(entry, "serverUrl");
        var type = String(entry, "type")?.ToLowerInvariant();
        var transport = type switch
        {
            "sse" => ServerTransport.Sse,
            "http" or "streamable-http" or "streamablehttp" => ServerTransport.Http,
            "stdio" => ServerTransport.Stdio,
            _ => command is not null ? ServerTransport.Stdio : ServerTransport.Http,
        };

        var env = Map(entry, "env");
        var headers = Map(entry, "headers");
        foreach (var key in env.Keys.Concat(headers.Keys).Where(SecretNames.IsSecret))
        {
            notes.Add($"'{key}' looks like a secret: the gateway stores it encrypted, shows it masked, and agents never see it.");
        }

        foreach (var (key, value) in env.Concat(headers).Where(kv => Placeholder().IsMatch(kv.Value)))
        {
            notes.Add($"'{key}' is a placeholder ({value}): replace it with the real value before saving.");
        }

        var definition = new ServerDefinition
        {
            Name = name,
            Transport = transport,
            Command = transport == ServerTransport.Stdio ? command : null,
            Args = transport == ServerTransport.Stdio ? Strings(entry, "args") : [],
            Env = transport == ServerTransport.Stdio ? env : new Dictionary<string, string>(),
            WorkingDirectory = transport == ServerTransport.Stdio ? String(entry, "cwd") : null,
            Url = transport == ServerTransport.Stdio ? null : url,
            Headers = transport == ServerTransport.Stdio ? new Dictionary<string, string>() : headers,
        };
        if (String(entry, "envFile") is not null)
        {
            notes.Add("'envFile' is not read: add its variables to the server's environment.");
        }

        return new ImportedServer(definition, originalName, notes);
    }

    private static string ValidName(string name, HashSet<string> taken)
    {
        var builder = new StringBuilder();
        foreach (var c in name.Trim())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-');
        }

        var candidate = builder.ToString().Trim('-', '_');
        candidate = candidate.Length == 0 ? "server" : candidate[..Math.Min(candidate.Length, 60)];
        var unique = candidate;
        for (var i = 2; !taken.Add(unique); i++)
        {
            unique = $"{candidate}-{i}";
        }

        return unique;
    }

    private static string? String(JsonElement entry, string property) =>
        entry.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Strings(JsonElement entry, string property) =>
        entry.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())]
            : [];

    private static Dictionary<string, string> Map(JsonElement entry, string property) =>
        entry.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Object
            ? value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())
            : [];

    [GeneratedRegex(@"\$\{[^}]+\}")]
    private static partial Regex Placeholder();
}
