using System.Diagnostics.CodeAnalysis;

namespace Gateway.Core.Grants;

/// <summary>One grant: the tools of matching servers an agent may see and call, written <c>server/toolglob</c>.</summary>
public sealed record ToolGrant(Glob Server, Glob Tool)
{
    /// <summary>The syntax, as a message.</summary>
    public const string Syntax = "A grant is 'server/tool', each part a name or a glob with * and ?, e.g. 'github/list_*' or 'files/*'.";

    /// <summary>Parses <c>server/toolglob</c>.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ToolGrant? grant)
    {
        grant = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == text.Length - 1 || text.IndexOf('/', slash + 1) >= 0)
        {
            return false;
        }

        var server = text[..slash];
        var tool = text[(slash + 1)..];
        if (!IsGlobText(server) || !IsGlobText(tool))
        {
            return false;
        }

        grant = new ToolGrant(new Glob(server), new Glob(tool));
        return true;
    }

    /// <summary>Returns whether this grant covers <paramref name="tool"/> on <paramref name="server"/>.</summary>
    public bool Allows(string server, string tool) => Server.IsMatch(server) && Tool.IsMatch(tool);

    /// <inheritdoc/>
    public override string ToString() => $"{Server}/{Tool}";

    private static bool IsGlobText(string part) => part.All(c => !char.IsWhiteSpace(c) && !char.IsControl(c));
}
