using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Web.Siem;

/// <summary>
/// How a sink checks its receiver's certificate: pinned (that certificate's SHA-256 and no other, whoever issued it),
/// a private CA (the chain must end at one of its certificates, and the name must match), or the system's roots.
/// </summary>
internal sealed class SiemCertificateTrust
{
    private readonly byte[]? _pin;
    private readonly X509Certificate2Collection? _roots;

    private SiemCertificateTrust(byte[]? pin, X509Certificate2Collection? roots)
    {
        _pin = pin;
        _roots = roots;
    }

    /// <summary>Reads <c>PinnedCertificateSha256</c> and <c>CaCertificatePath</c>; adds what is wrong to <paramref name="errors"/>.</summary>
    public static SiemCertificateTrust? Read(SiemSinkOptions sink, string where, List<string> errors)
    {
        byte[]? pin = null;
        if (sink.PinnedCertificateSha256 is { } text)
        {
            var hex = text.Replace(":", string.Empty, StringComparison.Ordinal);
            if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
            {
                errors.Add($"{where}:PinnedCertificateSha256 must be 64 hex digits (colons allowed).");
                return null;
            }

            pin = Convert.FromHexString(hex);
        }

        X509Certificate2Collection? roots = null;
        if (sink.CaCertificatePath is { } path)
        {
            try
            {
                roots = [];
                roots.ImportFromPemFile(path);
                if (roots.Count == 0)
                {
                    errors.Add($"{where}:CaCertificatePath {path} holds no PEM certificate.");
                    return null;
                }
            }
            catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException or ArgumentException)
            {
                errors.Add($"{where}:CaCertificatePath {path} cannot be read: {ex.Message}");
                return null;
            }
        }

        return new SiemCertificateTrust(pin, roots);
    }

    /// <summary>The check, for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        if (_pin is not null)
        {
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.GetRawCertData()), _pin);
        }

        if (_roots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.AddRange(_roots);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return own.Build(leaf);
    }
}
