using System.Text.Json.Serialization;

namespace Gateway.Core.Credentials;

/// <summary>
/// The secret a server's upstream requires, held by the gateway so agents never need it. Stored encrypted; only
/// <see cref="Hint"/> and <see cref="RotatedAt"/> ever leave the gateway.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> is overridden: a record prints all its members, and this one ends up in log messages and
/// exception texts through <c>ServerDefinition</c>.
/// </remarks>
public sealed record UpstreamCredential
{
    /// <summary>The header an <see cref="CredentialKind.ApiKey"/> credential uses when none is given.</summary>
    public const string DefaultApiKeyHeader = "X-Api-Key";

    /// <summary>Gets how the credential is presented.</summary>
    public required CredentialKind Kind { get; init; }

    /// <summary>Gets the secret: the token, the API key, the basic-auth password or the OAuth client secret (optional with a refresh token: public clients have none).</summary>
    public string? Secret { get; init; }

    /// <summary>Gets the header of an <see cref="CredentialKind.ApiKey"/> credential.</summary>
    public string? HeaderName { get; init; }

    /// <summary>Gets the user of a <see cref="CredentialKind.Basic"/> credential.</summary>
    public string? Username { get; init; }

    /// <summary>Gets the headers (<see cref="CredentialKind.Headers"/>) or variables (<see cref="CredentialKind.Env"/>).</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets the OAuth token endpoint.</summary>
    public string? TokenEndpoint { get; init; }

    /// <summary>Gets the OAuth client id.</summary>
    public string? ClientId { get; init; }

    /// <summary>Gets the refresh token of an <see cref="CredentialKind.OAuthRefreshToken"/> credential.</summary>
    public string? RefreshToken { get; init; }

    /// <summary>Gets the OAuth scope to request (space separated), if any.</summary>
    public string? Scope { get; init; }

    /// <summary>Gets when the credential was last set or replaced (filled in by the store; not part of the secret).</summary>
    [JsonIgnore]
    public DateTimeOffset? RotatedAt { get; init; }

    /// <summary>Gets a value indicating whether the stored ciphertext could not be decrypted (lost or foreign key ring).</summary>
    [JsonIgnore]
    public bool Unreadable { get; init; }

    /// <summary>Gets the masked hint shown instead of the secret: the last four characters of a long secret, else nothing.</summary>
    [JsonIgnore]
    public string Hint => Mask(Kind switch
    {
        CredentialKind.Headers or CredentialKind.Env => Values.Values.FirstOrDefault(),
        CredentialKind.OAuthRefreshToken => RefreshToken,
        _ => Secret,
    });

    /// <summary>Gets the names of <see cref="Values"/> (headers or variables); the values are secret.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Names => [.. Values.Keys];

    /// <summary>Masks a secret; a short one is not even partly shown, since four characters of it would say too much.</summary>
    public static string Mask(string? secret) =>
        secret is { Length: >= 12 } ? "••••" + secret[^4..] : "••••";

    /// <summary>Compares the secret content (not <see cref="RotatedAt"/>).</summary>
    public static bool Same(UpstreamCredential? a, UpstreamCredential? b) =>
        a is null || b is null
            ? a is null && b is null
            : a with { Values = Empty, RotatedAt = null } == b with { Values = Empty, RotatedAt = null }
              && a.Values.Count == b.Values.Count
              && a.Values.All(kv => b.Values.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} credential {Hint}";

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}
