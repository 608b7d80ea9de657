namespace Gateway.Web.Credentials;

/// <summary><c>Gateway:DataProtection</c>: where the key ring that encrypts upstream credentials lives.</summary>
public sealed class GatewayDataProtectionOptions
{
    /// <summary>Gets or sets the key ring folder; by default <c>keys</c> beside the SQLite database.</summary>
    public string? KeysPath { get; set; }

    /// <summary>Gets or sets a PFX certificate that encrypts the key ring at rest; without it the key files are plain XML (Linux has no DPAPI).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Gets or sets the password of <see cref="CertificatePath"/>.</summary>
    public string? CertificatePassword { get; set; }
}
