using System.Text.Json;
using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Data.Entities;

namespace Gateway.Data.Stores;

/// <summary>Maps between <see cref="ServerDefinition"/> and its row; the credential is decrypted here and only here.</summary>
internal static class ServerMapping
{
    public static ServerDefinition ToDefinition(this ServerEntity e, ICredentialProtector protector) => new()
    {
        Name = e.Name,
        Transport = Enum.Parse<ServerTransport>(e.Transport, ignoreCase: true),
        Command = e.Command,
        Args = JsonSerializer.Deserialize<List<string>>(e.ArgsJson) ?? [],
        Env = JsonSerializer.Deserialize<Dictionary<string, string>>(e.EnvJson) ?? [],
        WorkingDirectory = e.WorkingDirectory,
        Url = e.Url,
        Headers = JsonSerializer.Deserialize<Dictionary<string, string>>(e.HeadersJson) ?? [],
        Credential = e.ReadCredential(protector),
        ToolPrefix = e.ToolPrefix,
        Enabled = e.Enabled,
        ManagedByConfiguration = e.ManagedByConfiguration,
        ConnectTimeout = TimeSpan.FromMilliseconds(e.ConnectTimeoutMs),
        CallTimeout = TimeSpan.FromMilliseconds(e.CallTimeoutMs),
        Guard = new ServerGuardSettings
        {
            // A value no gateway writes (edited by hand) falls back to the default, which hides rather than shows.
            Secrets = GuardModes.TryParseSecrets(e.GuardSecrets, out var secrets) ? secrets : SecretMode.Redact,
            Unicode = GuardModes.TryParseUnicode(e.GuardUnicode, out var unicode) ? unicode : UnicodeMode.Strip,
            Labels = JsonSerializer.Deserialize<List<string>>(e.LabelsJson) ?? [],
        },
    };

    /// <summary>Copies the definition, except its credential (see <see cref="WriteCredential"/>).</summary>
    public static void CopyFrom(this ServerEntity e, ServerDefinition d)
    {
        e.Name = d.Name;
        e.Transport = d.Transport.ToString().ToLowerInvariant();
        e.Command = d.Command;
        e.ArgsJson = JsonSerializer.Serialize(d.Args);
        e.EnvJson = JsonSerializer.Serialize(d.Env);
        e.WorkingDirectory = d.WorkingDirectory;
        e.Url = d.Url;
        e.HeadersJson = JsonSerializer.Serialize(d.Headers);
        e.ToolPrefix = d.ToolPrefix;
        e.Enabled = d.Enabled;
        e.ManagedByConfiguration = d.ManagedByConfiguration;
        e.ConnectTimeoutMs = (long)d.ConnectTimeout.TotalMilliseconds;
        e.CallTimeoutMs = (long)d.CallTimeout.TotalMilliseconds;
        e.GuardSecrets = d.Guard.Secrets.Name();
        e.GuardUnicode = d.Guard.Unicode.Name();
        e.LabelsJson = JsonSerializer.Serialize(d.Guard.Labels);
    }

    /// <summary>Encrypts and stores the credential (or clears it), stamping the rotation time.</summary>
    public static void WriteCredential(this ServerEntity e, UpstreamCredential? credential, ICredentialProtector protector, DateTimeOffset now)
    {
        e.CredentialKind = credential?.Kind.ToString();
        e.CredentialCiphertext = credential is null ? null : protector.Protect(e.Name, credential);
        e.CredentialRotatedAt = credential is null ? null : now;
    }

    public static StoredServer ToStored(this ServerEntity e, ICredentialProtector protector) => new(e.Id, e.ToDefinition(protector));

    private static UpstreamCredential? ReadCredential(this ServerEntity e, ICredentialProtector protector)
    {
        if (e.CredentialCiphertext is null || !Enum.TryParse<CredentialKind>(e.CredentialKind, out var kind))
        {
            return null;
        }

        // An undecryptable credential is kept visible as such: the server then fails with a clear reason
        // instead of connecting without its secret.
        return protector.Unprotect(e.Name, e.CredentialCiphertext) is { } credential
            ? credential with { RotatedAt = e.CredentialRotatedAt }
            : new UpstreamCredential { Kind = kind, RotatedAt = e.CredentialRotatedAt, Unreadable = true };
    }
}
