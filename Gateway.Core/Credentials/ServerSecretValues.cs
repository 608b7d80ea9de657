namespace Gateway.Core.Credentials;

/// <summary>
/// The secret-looking <c>Env</c> and <c>Headers</c> entries of one server (see <see cref="Servers.SecretNames"/>), and
/// its <c>Url</c> and <c>Args</c> whole when they hold secrets (see <see cref="Servers.SecretParts"/>): what the store
/// encrypts beside the credential, so they are never in the database in clear.
/// </summary>
/// <param name="Env">The secret variables of a stdio child.</param>
/// <param name="Headers">The secret headers of an http or sse upstream.</param>
public sealed record ServerSecretValues(Dictionary<string, string> Env, Dictionary<string, string> Headers)
{
    /// <summary>Gets the URL whole, when it holds secrets (the row holds it masked); <see langword="null"/> otherwise.</summary>
    public string? Url { get; init; }

    /// <summary>Gets the arguments whole, when they hold secrets (the row holds them masked); <see langword="null"/> otherwise.</summary>
    public List<string>? Args { get; init; }

    /// <summary>Gets a value indicating whether there is nothing to encrypt.</summary>
    public bool IsEmpty => Env.Count == 0 && Headers.Count == 0 && Url is null && Args is null;
}
