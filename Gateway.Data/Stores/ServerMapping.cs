using System.Text.Json;
using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Data.Entities;

namespace Gateway.Data.Stores;

/// <summary>
/// Maps between <see cref="ServerDefinition"/> and its row; the credential and the secret Env/Headers values are
/// encrypted and decrypted here and only here.
/// </summary>
/// <remarks>
/// <c>EnvJson</c> and <c>HeadersJson</c> hold only the plain entries; the secret-looking ones (<see cref="SecretNames"/>)
/// are in <c>SecretValuesCiphertext</c>. <c>Url</c> and <c>ArgsJson</c> hold the masked forms (<see cref="SecretParts"/>),
/// and the ciphertext the whole ones when they differ. Rows written before that still hold them in clear: they read the same, and
/// <see cref="EfServerStore.ReprotectCredentialsAsync"/> seals them at the next start.
/// </remarks>
internal static class ServerMapping
{
    public static ServerDefinition ToDefinition(this ServerEntity e, ICredentialProtector protector)
    {
        var env = JsonSerializer.Deserialize<Dictionary<string, string>>(e.EnvJson) ?? [];
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(e.HeadersJson) ?? [];
        var secrets = e.SecretValuesCiphertext is null ? null : protector.UnprotectValues(e.Name, e.SecretValuesCiphertext);
        foreach (var (name, value) in secrets?.Env ?? [])
        {
            env[name] = value;
        }

        foreach (var (name, value) in secrets?.Headers ?? [])
        {
            headers[name] = value;
        }

        return e.ToDefinition(protector, env, headers, WholeUrl(e, secrets), WholeArgs(e, secrets), unreadable: e.SecretValuesCiphertext is not null && secrets is null);
    }

    // The ciphertext's whole URL and arguments stand for the row's masked ones only while the row shows them (its
    // placeholders aside): an edit made while the ciphertext could not be decrypted (the key ring lost) keeps it
    // (CopyFrom), and the row's newer value must win over the older one it holds when the key ring comes back. Matched
    // by the placeholders, not by masking again: a later version masking more would otherwise drop the whole value, and
    // the start's sealing of what is newly found in clear would then store the placeholders for good.
    private static string? WholeUrl(ServerEntity e, ServerSecretValues? secrets) =>
        secrets?.Url is { } url && e.Url is { } shown && SecretParts.Shows(shown, url) ? url : null;

    private static List<string>? WholeArgs(ServerEntity e, ServerSecretValues? secrets)
    {
        if (secrets?.Args is not { } args)
        {
            return null;
        }

        var shown = JsonSerializer.Deserialize<List<string>>(e.ArgsJson) ?? [];
        return shown.Count == args.Count && shown.Zip(args).All(pair => SecretParts.Shows(pair.First, pair.Second)) ? [.. args] : null;
    }

    /// <summary>Whether the row still holds secret-looking values in clear (written before they were encrypted).</summary>
    public static bool HasClearSecrets(this ServerEntity e) =>
        (JsonSerializer.Deserialize<Dictionary<string, string>>(e.EnvJson) ?? []).Keys.Any(SecretNames.IsSecret)
        || (JsonSerializer.Deserialize<Dictionary<string, string>>(e.HeadersJson) ?? []).Keys.Any(SecretNames.IsSecret)
        || SecretParts.Any(e.Url, JsonSerializer.Deserialize<List<string>>(e.ArgsJson) ?? []);

    private static ServerDefinition ToDefinition(this ServerEntity e, ICredentialProtector protector, Dictionary<string, string> env, Dictionary<string, string> headers, string? url, List<string>? args, bool unreadable) => new()
    {
        Name = e.Name,
        Transport = Enum.Parse<ServerTransport>(e.Transport, ignoreCase: true),
        Command = e.Command,

        // The row's Url and Args are the masked forms when the whole ones are in the ciphertext.
        Args = args ?? JsonSerializer.Deserialize<List<string>>(e.ArgsJson) ?? [],
        Env = env,
        WorkingDirectory = e.WorkingDirectory,
        Url = url ?? e.Url,
        Headers = headers,
        ForwardHeaders = JsonSerializer.Deserialize<List<string>>(e.ForwardHeadersJson) ?? [],
        SecretValuesUnreadable = unreadable,
        Credential = e.ReadCredential(protector),
        ToolPrefix = e.ToolPrefix,
        Enabled = e.Enabled,
        ManagedByConfiguration = e.ManagedByConfiguration,
        ConnectTimeout = TimeSpan.FromMilliseconds(e.ConnectTimeoutMs),
        CallTimeout = TimeSpan.FromMilliseconds(e.CallTimeoutMs),
        MaxResultBytes = e.MaxResultBytes,

        // A value no gateway writes (edited by hand) falls back to shared, which never sends a user's token anywhere.
        CredentialMode = CredentialModes.TryParse(e.CredentialMode, out var mode) ? mode : CredentialMode.Shared,
        ExchangeAudience = e.ExchangeAudience,
        ExchangeResource = e.ExchangeResource,
        Guard = new ServerGuardSettings
        {
            // A value no gateway writes (edited by hand) falls back to the default, which hides rather than shows.
            Secrets = GuardModes.TryParseSecrets(e.GuardSecrets, out var secrets) ? secrets : SecretMode.Redact,
            Unicode = GuardModes.TryParseUnicode(e.GuardUnicode, out var unicode) ? unicode : UnicodeMode.Strip,
            Labels = JsonSerializer.Deserialize<List<string>>(e.LabelsJson) ?? [],
        },
    };

    /// <summary>Copies the definition, except its credential (see <see cref="WriteCredential"/>); secret Env/Headers values are encrypted.</summary>
    public static void CopyFrom(this ServerEntity e, ServerDefinition d, ICredentialProtector protector)
    {
        var (env, secretEnv) = SecretNames.Split(d.Env);
        var (headers, secretHeaders) = SecretNames.Split(d.Headers);
        var url = SecretParts.MaskUrl(d.Url);
        var args = SecretParts.MaskArgs(d.Args);
        var secrets = new ServerSecretValues(secretEnv, secretHeaders)
        {
            Url = url == d.Url ? null : d.Url,
            Args = args.SequenceEqual(d.Args) ? null : [.. d.Args],
        };
        e.Name = d.Name;
        e.Transport = d.Transport.ToString().ToLowerInvariant();
        e.Command = d.Command;
        e.ArgsJson = JsonSerializer.Serialize(args);
        e.EnvJson = JsonSerializer.Serialize(env);
        e.WorkingDirectory = d.WorkingDirectory;
        e.Url = url;
        e.HeadersJson = JsonSerializer.Serialize(headers);
        e.ForwardHeadersJson = JsonSerializer.Serialize(d.ForwardHeaders);

        // A definition read while the values could not be decrypted does not hold them: keeping the ciphertext (a key
        // ring restored later reads it again) loses nothing; new values given by the admin replace it.
        if (!(d.SecretValuesUnreadable && secrets.IsEmpty && e.SecretValuesCiphertext is not null))
        {
            e.SecretValuesCiphertext = secrets.IsEmpty ? null : protector.ProtectValues(d.Name, secrets);
        }

        e.ToolPrefix = d.ToolPrefix;
        e.Enabled = d.Enabled;
        e.ManagedByConfiguration = d.ManagedByConfiguration;
        e.ConnectTimeoutMs = (long)d.ConnectTimeout.TotalMilliseconds;
        e.CallTimeoutMs = (long)d.CallTimeout.TotalMilliseconds;
        e.MaxResultBytes = d.MaxResultBytes;
        e.CredentialMode = d.CredentialMode.Name();
        e.ExchangeAudience = d.ExchangeAudience;
        e.ExchangeResource = d.ExchangeResource;
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
