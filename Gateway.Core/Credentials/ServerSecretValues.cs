namespace Gateway.Core.Credentials;

/// <summary>
/// The secret-looking <c>Env</c> and <c>Headers</c> entries of one server (see <see cref="Servers.SecretNames"/>): what
/// the store encrypts beside the credential, so they are never in the database in clear.
/// </summary>
/// <param name="Env">The secret variables of a stdio child.</param>
/// <param name="Headers">The secret headers of an http or sse upstream.</param>
public sealed record ServerSecretValues(Dictionary<string, string> Env, Dictionary<string, string> Headers)
{
    /// <summary>Gets a value indicating whether there is nothing to encrypt.</summary>
    public bool IsEmpty => Env.Count == 0 && Headers.Count == 0;
}
