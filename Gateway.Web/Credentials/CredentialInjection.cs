using System.Text;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;

namespace Gateway.Web.Credentials;

/// <summary>
/// Turns a server's stored credential into what its upstream receives: headers for http and sse, variables for a
/// stdio child. This is the only place upstream request headers come from besides the server's own definition;
/// nothing an agent sent (its <c>Authorization</c>, cookies, API keys) is ever copied into them.
/// </summary>
internal static class CredentialInjection
{
    /// <summary>The headers of every upstream request: the definition's, then the credential's (which wins).</summary>
    public static Dictionary<string, string> Headers(ServerDefinition server)
    {
        var headers = new Dictionary<string, string>(server.Headers, StringComparer.OrdinalIgnoreCase);
        var credential = Readable(server);
        switch (credential?.Kind)
        {
            case CredentialKind.Bearer:
                headers["Authorization"] = "Bearer " + credential.Secret;
                break;
            case CredentialKind.ApiKey:
                headers[credential.HeaderName ?? UpstreamCredential.DefaultApiKeyHeader] = credential.Secret!;
                break;
            case CredentialKind.Basic:
                headers["Authorization"] = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}"));
                break;
            case CredentialKind.Headers:
                foreach (var (name, value) in credential.Values)
                {
                    headers[name] = value;
                }

                break;
        }

        return headers;
    }

    /// <summary>Adds an <see cref="CredentialKind.Env"/> credential's variables to a stdio child's environment.</summary>
    public static void AddEnvironment(ServerDefinition server, IDictionary<string, string?> env)
    {
        if (Readable(server) is { Kind: CredentialKind.Env } credential)
        {
            foreach (var (name, value) in credential.Values)
            {
                env[name] = value;
            }
        }
    }

    /// <summary>The credential, refusing to connect without it (or without the secret Env/Headers values) when it cannot be decrypted.</summary>
    public static UpstreamCredential? Readable(ServerDefinition server) =>
        server.Credential is { Unreadable: true }
            ? throw new InvalidOperationException($"The credential of '{server.Name}' cannot be decrypted (Data Protection key ring missing or replaced); set it again.")
            : server.SecretValuesUnreadable
                ? throw new InvalidOperationException($"The secret Env/Headers values of '{server.Name}' cannot be decrypted (Data Protection key ring missing or replaced); set them again.")
                : server.Credential;
}
