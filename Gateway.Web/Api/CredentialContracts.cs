using Gateway.Core.Credentials;
using Gateway.Web.Provisioning;

namespace Gateway.Web.Api;

/// <summary>
/// A credential to store for a server: <c>bearer</c> (<c>secret</c>), <c>apiKey</c> (<c>secret</c>, <c>headerName</c>),
/// <c>basic</c> (<c>username</c>, <c>secret</c>), <c>headers</c> or <c>env</c> (<c>values</c>), or <c>oauth</c>
/// (<c>tokenEndpoint</c>, <c>clientId</c>, <c>secret</c>, <c>scope</c>), or <c>refreshToken</c> (the same plus
/// <c>refreshToken</c>; <c>secret</c> optional). Write-only: it is never returned.
/// </summary>
public sealed record CredentialRequest
{
    public string? Kind { get; init; }

    public string? Secret { get; init; }

    public string? HeaderName { get; init; }

    public string? Username { get; init; }

    public Dictionary<string, string>? Values { get; init; }

    public string? TokenEndpoint { get; init; }

    public string? RefreshToken { get; init; }

    public string? ClientId { get; init; }

    public string? Scope { get; init; }
}

/// <summary>What may be shown of a stored credential: its kind, a masked hint, the names of its headers or variables, and when it was last set.</summary>
public sealed record CredentialResponse(string Kind, string Hint, IReadOnlyList<string> Names, DateTimeOffset? RotatedAt, bool Unreadable);

internal static class CredentialContractMapping
{
    public static UpstreamCredential? ToCredential(this CredentialRequest r, Dictionary<string, string[]> errors)
    {
        if (!CredentialSpecReader.TryParseKind(r.Kind, out var kind))
        {
            errors["credential"] = ["Credential kind must be 'bearer', 'apiKey', 'basic', 'headers', 'env', 'oauth' or 'refreshToken'."];
            return null;
        }

        return new UpstreamCredential
        {
            Kind = kind,
            Secret = r.Secret,
            HeaderName = r.HeaderName,
            Username = r.Username,
            Values = r.Values ?? [],
            TokenEndpoint = r.TokenEndpoint,
            RefreshToken = r.RefreshToken,
            ClientId = r.ClientId,
            Scope = r.Scope,
        };
    }

    public static CredentialResponse ToResponse(this UpstreamCredential c) => new(
        CredentialSpecReader.KindName(c.Kind),
        c.Unreadable ? "(unreadable)" : c.Hint,
        c.Names,
        c.RotatedAt,
        c.Unreadable);
}
