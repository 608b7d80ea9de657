using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Gateway.Core.Policy;

namespace Gateway.Core.Grants;

/// <summary>
/// One grant, written <c>server/toolglob[:class][@expiry]</c>: the tools of matching servers an agent may see and call,
/// up to an access class (default <c>write</c>: destructive tools always need an explicit grant), until an optional
/// expiry (ISO 8601).
/// </summary>
public sealed record ToolGrant(Glob Server, Glob Tool, AccessClass MaxClass = AccessClass.Write, DateTimeOffset? Expires = null)
{
    /// <summary>The syntax, as a message.</summary>
    public const string Syntax = "A grant is 'server/tool[:read|write|destructive][@expiry]', server and tool each a name or a glob with * and ?, e.g. 'github/list_*:read' or 'files/*:write@2027-01-01T00:00:00Z'.";

    /// <summary>Parses <c>server/toolglob[:class][@expiry]</c>.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ToolGrant? grant)
    {
        grant = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        DateTimeOffset? expires = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!DateTimeOffset.TryParse(text.AsSpan(at + 1), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                return false;
            }

            expires = when;
            text = text[..at];
        }

        var accessClass = AccessClass.Write;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!ToolClassifier.TryParse(text[(colon + 1)..], out accessClass))
            {
                return false;
            }

            text = text[..colon];
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

        grant = new ToolGrant(new Glob(server), new Glob(tool), accessClass, expires);
        return true;
    }

    /// <summary>Returns whether this grant covers a tool of the given class on <paramref name="server"/> at <paramref name="now"/>.</summary>
    public bool Allows(string server, string tool, AccessClass accessClass, DateTimeOffset now) =>
        accessClass <= MaxClass && IsLive(now) && Server.IsMatch(server) && Tool.IsMatch(tool);

    /// <summary>Returns whether the grant has not expired at <paramref name="now"/>.</summary>
    public bool IsLive(DateTimeOffset now) => Expires is not { } until || now < until;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Server}/{Tool}:{MaxClass.Name()}" + (Expires is { } e ? "@" + e.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : string.Empty);

    private static bool IsGlobText(string part) => part.All(c => !char.IsWhiteSpace(c) && !char.IsControl(c) && c != ':' && c != '@');
}
