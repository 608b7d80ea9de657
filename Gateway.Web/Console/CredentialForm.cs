using Gateway.Core.Credentials;

namespace Gateway.Web.Console;

/// <summary>The console's credential fields; secrets live here only until saved, and are cleared after.</summary>
public sealed class CredentialForm
{
    /// <summary>Gets or sets the kind: <c>none</c>, or a <see cref="CredentialKind"/> name.</summary>
    public string Kind { get; set; } = "none";

    public string? Secret { get; set; }

    public string? HeaderName { get; set; }

    public string? Username { get; set; }

    public string? TokenEndpoint { get; set; }

    public string? ClientId { get; set; }

    public string? Scope { get; set; }

    public string? RefreshToken { get; set; }

    /// <summary>Gets or sets headers (<c>Name: value</c>) or variables (<c>NAME=value</c>), one per line.</summary>
    public string? Values { get; set; }

    /// <summary>The credential the fields describe; <see langword="null"/> for <c>none</c>.</summary>
    public UpstreamCredential? ToCredential()
    {
        if (!Enum.TryParse<CredentialKind>(Kind, ignoreCase: true, out var kind))
        {
            return null;
        }

        var separator = kind == CredentialKind.Env ? '=' : ':';
        var values = (Values ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(separator, 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);
        return new UpstreamCredential
        {
            Kind = kind,
            Secret = string.IsNullOrEmpty(Secret) ? null : Secret,
            HeaderName = string.IsNullOrWhiteSpace(HeaderName) ? null : HeaderName.Trim(),
            Username = string.IsNullOrWhiteSpace(Username) ? null : Username.Trim(),
            Values = values,
            TokenEndpoint = string.IsNullOrWhiteSpace(TokenEndpoint) ? null : TokenEndpoint.Trim(),
            ClientId = string.IsNullOrWhiteSpace(ClientId) ? null : ClientId.Trim(),
            Scope = string.IsNullOrWhiteSpace(Scope) ? null : Scope.Trim(),
            RefreshToken = string.IsNullOrEmpty(RefreshToken) ? null : RefreshToken,
        };
    }

    public void Reset()
    {
        (Kind, Secret, HeaderName, Username, Values) = ("none", null, null, null, null);
        (TokenEndpoint, ClientId, Scope, RefreshToken) = (null, null, null, null);
    }

    /// <summary>Same kind and names as <paramref name="current"/>, values empty: replacing is usually a new secret for the same slot.</summary>
    public void PrepareReplacement(UpstreamCredential? current)
    {
        Reset();
        if (current is null)
        {
            return;
        }

        (Kind, HeaderName, Username, TokenEndpoint, ClientId, Scope) = (current.Kind.ToString(), current.HeaderName, current.Username, current.TokenEndpoint, current.ClientId, current.Scope);
        Values = string.Join('\n', current.Names.Select(n => current.Kind == CredentialKind.Env ? n + "=" : n + ": "));
    }
}
