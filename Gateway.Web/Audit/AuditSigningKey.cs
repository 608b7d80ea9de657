using System.Security.Cryptography;

namespace Gateway.Web.Audit;

/// <summary>
/// The checkpoint signing key: an ECDSA P-256 private key in a PEM file outside the database, created on first use
/// (owner-only permissions), with its public key written beside it for verifiers.
/// </summary>
public sealed class AuditSigningKey(string path) : IDisposable
{
    private readonly Lazy<ECDsa> _key = new(() => LoadOrCreate(path));

    /// <summary>Gets the private key file.</summary>
    public string PrivateKeyPath => path;

    /// <summary>Gets the public key file.</summary>
    public string PublicKeyPath => PublicKeyPathFor(path);

    /// <summary>Gets the key (loaded or generated on first use).</summary>
    public ECDsa Key => _key.Value;

    /// <summary>The public key file that goes with a private key file.</summary>
    public static string PublicKeyPathFor(string privateKeyPath) =>
        Path.Combine(Path.GetDirectoryName(privateKeyPath)!, Path.GetFileNameWithoutExtension(privateKeyPath) + ".pub.pem");

    /// <summary>Loads a public key from PEM (a public or a private key file).</summary>
    public static ECDsa LoadPublic(string pemPath)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(pemPath));
        return key;
    }

    public void Dispose()
    {
        if (_key.IsValueCreated)
        {
            _key.Value.Dispose();
        }
    }

    private static ECDsa LoadOrCreate(string path)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var writer = new StreamWriter(path, options))
            {
                writer.Write(key.ExportPkcs8PrivateKeyPem());
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another instance created it first: use theirs, so both sign with one key.
            key.ImportFromPem(File.ReadAllText(path));
        }

        File.WriteAllText(PublicKeyPathFor(path), key.ExportSubjectPublicKeyInfoPem());
        return key;
    }
}
