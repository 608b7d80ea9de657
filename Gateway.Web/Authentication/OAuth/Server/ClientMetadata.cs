using System.Text.Json;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// What the gateway keeps of a client's metadata (RFC 7591 §2, also the shape of a Client ID Metadata Document): a
/// public client using the authorization code flow with PKCE, its name and its redirect URIs. Anything a client could
/// ask beyond that (a secret, other grants) is refused rather than quietly ignored.
/// </summary>
internal sealed record ClientMetadata(string? ClientId, string? Name, IReadOnlyList<Uri> RedirectUris)
{
    private static readonly string[] Grants = ["authorization_code", "refresh_token"];

    /// <summary>Reads and checks a metadata object; on failure the error is RFC 7591's code and a description.</summary>
    public static (ClientMetadata? Metadata, string? Error, string? Description) Read(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The client metadata must be a JSON object.");
        }

        if (!json.TryGetProperty("redirect_uris", out var uris) || uris.ValueKind != JsonValueKind.Array || uris.GetArrayLength() == 0)
        {
            return (null, "invalid_redirect_uri", "redirect_uris must list at least one redirect URI.");
        }

        if (uris.GetArrayLength() > AuthorizationServerSettings.MaxRedirectUris)
        {
            return (null, "invalid_redirect_uri", $"redirect_uris lists more than {AuthorizationServerSettings.MaxRedirectUris} redirect URIs.");
        }

        List<Uri> redirects = [];
        foreach (var item in uris.EnumerateArray())
        {
            var problem = item.ValueKind == JsonValueKind.String ? RedirectUriProblem(item.GetString()!) : "Each redirect URI must be a string.";
            if (problem is not null)
            {
                return (null, "invalid_redirect_uri", problem);
            }

            redirects.Add(new Uri(item.GetString()!));
        }

        if (Text(json, "token_endpoint_auth_method") is { } method && method != "none")
        {
            return Invalid($"token_endpoint_auth_method '{Bound(method)}' is not supported: clients of this gateway are public clients with PKCE (\"none\").");
        }

        if (Strings(json, "grant_types") is { } grants && grants.FirstOrDefault(g => !Grants.Contains(g, StringComparer.Ordinal)) is { } grant)
        {
            return Invalid($"grant_types: '{Bound(grant)}' is not supported (only authorization_code and refresh_token).");
        }

        if (Strings(json, "response_types") is { } responses && responses.Any(r => r != "code"))
        {
            return Invalid("response_types: only \"code\" is supported.");
        }

        var name = Text(json, "client_name");
        if (name is { Length: > AuthorizationServerSettings.MaxClientNameLength })
        {
            return Invalid($"client_name is longer than {AuthorizationServerSettings.MaxClientNameLength} characters.");
        }

        return (new ClientMetadata(Text(json, "client_id"), name, redirects), null, null);
    }

    /// <summary>
    /// Why a redirect URI is not accepted, or <see langword="null"/>: absolute, no fragment, bounded; plain http only to
    /// a loopback address (RFC 8252 §7.3); private-use schemes of native apps (RFC 8252 §7.1) are allowed, scripts are not.
    /// </summary>
    public static string? RedirectUriProblem(string value)
    {
        if (value.Length > AuthorizationServerSettings.MaxUrlLength || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            return $"'{Bound(value)}' is not an absolute URI of at most {AuthorizationServerSettings.MaxUrlLength} characters.";
        }

        if (uri.Fragment.Length > 0)
        {
            return $"'{Bound(value)}' has a fragment, which a redirect URI must not have.";
        }

        if (uri.Scheme is "javascript" or "data" or "file" or "vbscript")
        {
            return $"'{Bound(value)}' uses the scheme {uri.Scheme}, which is not a redirect target.";
        }

        return uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback
            ? $"'{Bound(value)}' is plain http to a host other than loopback; use https."
            : null;
    }

    private static (ClientMetadata?, string?, string?) Invalid(string description) => (null, "invalid_client_metadata", description);

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[]? Strings(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())]
            : null;

    private static string Bound(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
