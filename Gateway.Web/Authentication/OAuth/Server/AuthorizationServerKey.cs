using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The authorization server's key, one file shared by every instance of the gateway: an ECDSA P-256 key that signs
/// access tokens (ES256, which the gateway's validator accepts), and, derived from it, the AES key that encrypts the
/// authorization codes and refresh tokens only this server reads. Generated on first start; never in the database.
/// </summary>
internal sealed class AuthorizationServerKey : IDisposable
{
    private readonly ECDsa _key;

    public AuthorizationServerKey(string path)
    {
        Path = path;
        _key = LoadOrCreate(path);
        var thumbprint = Base64UrlEncoder.Encode(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()))[..16];

        // Not IdentityModel's process-wide cache of signature providers: it is keyed by the key's public thumbprint, so
        // two hosts in one process with the same key file (instances in tests) would share the first one's provider,
        // and sign with its disposed key once that host stopped. Tokens are signed at sign-ins and refreshes only.
        Signing = new ECDsaSecurityKey(_key) { KeyId = thumbprint, CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };

        // A separate key for encryption, bound to the signing key: one secret to keep, two purposes kept apart.
        var secret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _key.ExportECPrivateKey(), 32, info: Encoding.UTF8.GetBytes("mcp-gateway oauth token encryption"));
        Encryption = new SymmetricSecurityKey(secret) { KeyId = thumbprint + "-enc" };
    }

    /// <summary>Gets the key file.</summary>
    public string Path { get; }

    /// <summary>Gets the key that signs access tokens.</summary>
    public SecurityKey Signing { get; }

    /// <summary>Gets the key that encrypts codes and refresh tokens.</summary>
    public SecurityKey Encryption { get; }

    public void Dispose() => _key.Dispose();

    private static ECDsa LoadOrCreate(string path)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);

        // Written aside, then moved in place without overwriting: an instance starting at the same moment either wins
        // or reads the winner's complete file, never a half-written one.
        var aside = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(aside, options))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
        }

        try
        {
            File.Move(aside, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(aside);
            key.ImportFromPem(File.ReadAllText(path));
        }

        return key;
    }
}
