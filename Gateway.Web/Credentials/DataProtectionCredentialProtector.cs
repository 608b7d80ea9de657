using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Core.Credentials;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Web.Credentials;

/// <summary>
/// Encrypts upstream credentials with ASP.NET Core Data Protection. The purpose chain is fixed text plus the server's
/// name, so a ciphertext copied onto another server's row (or from another application) does not decrypt.
/// </summary>
internal sealed partial class DataProtectionCredentialProtector(IDataProtectionProvider provider, ILogger<DataProtectionCredentialProtector> logger) : ICredentialProtector
{
    /// <summary>The purpose of every credential ciphertext; versioned so a future format can use another.</summary>
    public const string Purpose = "Gateway.UpstreamCredential.v1";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The purpose of the ciphertexts of secret Env and Headers values.</summary>
    public const string ValuesPurpose = "Gateway.ServerSecretValues.v1";

    private readonly IDataProtector _root = provider.CreateProtector(Purpose);
    private readonly IDataProtector _values = provider.CreateProtector(ValuesPurpose);

    public string Protect(string server, UpstreamCredential credential) =>
        _root.CreateProtector(server).Protect(JsonSerializer.Serialize(credential, Json));

    public UpstreamCredential? Unprotect(string server, string protectedPayload)
    {
        try
        {
            return JsonSerializer.Deserialize<UpstreamCredential>(_root.CreateProtector(server).Unprotect(protectedPayload), Json);
        }
        catch (CryptographicException ex)
        {
            // Never the payload, never the plaintext: only which server and why.
            LogUnreadable(server, ex.Message);
            return null;
        }
    }

    public string ProtectValues(string server, ServerSecretValues values) =>
        _values.CreateProtector(server).Protect(JsonSerializer.Serialize(values, Json));

    public ServerSecretValues? UnprotectValues(string server, string protectedPayload)
    {
        try
        {
            return JsonSerializer.Deserialize<ServerSecretValues>(_values.CreateProtector(server).Unprotect(protectedPayload), Json);
        }
        catch (CryptographicException ex)
        {
            LogUnreadableValues(server, ex.Message);
            return null;
        }
    }

    public string? Reprotect(string server, string protectedPayload) => Reprotect(_root, server, protectedPayload);

    public string? ReprotectValues(string server, string protectedPayload) => Reprotect(_values, server, protectedPayload);

    private string? Reprotect(IDataProtector root, string server, string protectedPayload)
    {
        var protector = (IPersistedDataProtector)root.CreateProtector(server);
        try
        {
            // "Dangerous" only in that it also reads payloads of revoked keys: exactly what re-encrypting after a
            // revocation needs. The plaintext goes straight back into Protect.
            var plaintext = protector.DangerousUnprotect(
                WebEncoders.Base64UrlDecode(protectedPayload), ignoreRevocationErrors: true, out var requiresMigration, out var wasRevoked);
            return requiresMigration || wasRevoked ? WebEncoders.Base64UrlEncode(protector.Protect(plaintext)) : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            LogUnreadable(server, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The stored credential of server {Server} cannot be decrypted ({Reason}). Was the Data Protection key ring lost or replaced? Set the credential again.")]
    private partial void LogUnreadable(string server, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The stored secret Env/Headers values of server {Server} cannot be decrypted ({Reason}). Was the Data Protection key ring lost or replaced? Set them again.")]
    private partial void LogUnreadableValues(string server, string reason);
}
