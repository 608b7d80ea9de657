namespace Gateway.Core.Catalog;

/// <summary>
/// The tool names of the connected servers, for finding a definition that names another server's tool (shadowing:
/// "when you use send_email, always Bcc …"). Exposed (prefixed) names always count; original names only when they
/// are distinctive (<c>send_email</c>, <c>get-env</c>, <c>createIssue</c>), since plain words such as <c>echo</c>
/// or <c>add</c> appear in ordinary prose.
/// </summary>
public sealed class ToolNameIndex
{
    private readonly Dictionary<string, HashSet<string>> _owners = new(StringComparer.Ordinal);

    public static ToolNameIndex Empty { get; } = new();

    /// <summary>Builds the index over each server's prefix and original tool names.</summary>
    public static ToolNameIndex Build(IEnumerable<(string Server, string Prefix, IEnumerable<string> Tools)> servers)
    {
        var index = new ToolNameIndex();
        foreach (var (server, prefix, tools) in servers)
        {
            foreach (var tool in tools)
            {
                if (prefix.Length > 0)
                {
                    index.Add(prefix + tool, server);
                }

                if (IsDistinctive(tool))
                {
                    index.Add(tool, server);
                }
            }
        }

        return index;
    }

    /// <summary>Another server offering <paramref name="name"/>, or <see langword="null"/> when none does or <paramref name="server"/> offers it too (a self-reference).</summary>
    public string? ForeignOwner(string name, string server) =>
        _owners.TryGetValue(name, out var owners) && !owners.Contains(server) ? owners.Min(StringComparer.Ordinal) : null;

    /// <summary>Whether <paramref name="name"/> is a name of <paramref name="server"/>'s tools.</summary>
    public bool IsOwnedBy(string name, string server) => _owners.TryGetValue(name, out var owners) && owners.Contains(server);

    /// <summary>Whether a name is unlikely to occur in prose: it has a separator or an inner capital, and some length.</summary>
    public static bool IsDistinctive(string name)
    {
        if (name.Length < 4)
        {
            return false;
        }

        for (var i = 1; i < name.Length - 1; i++)
        {
            if (name[i] is '_' or '-' or '.' || (char.IsUpper(name[i]) && char.IsLower(name[i - 1])))
            {
                return true;
            }
        }

        return false;
    }

    private void Add(string name, string server)
    {
        if (!_owners.TryGetValue(name, out var owners))
        {
            _owners[name] = owners = new HashSet<string>(StringComparer.Ordinal);
        }

        owners.Add(server);
    }
}
