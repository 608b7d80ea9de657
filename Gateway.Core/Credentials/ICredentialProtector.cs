namespace Gateway.Core.Credentials;

/// <summary>Encrypts credentials for storage; each ciphertext is bound to its server, so a copied one does not decrypt elsewhere.</summary>
public interface ICredentialProtector
{
    /// <summary>Encrypts <paramref name="credential"/> for the server <paramref name="server"/>.</summary>
    string Protect(string server, UpstreamCredential credential);

    /// <summary>Decrypts a stored credential; <see langword="null"/> when it cannot be (another key ring, another server, tampering).</summary>
    UpstreamCredential? Unprotect(string server, string protectedPayload);

    /// <summary>
    /// A new ciphertext under the current key when <paramref name="protectedPayload"/> was encrypted with a key that is
    /// no longer the default (rolled over, or revoked after a compromise); <see langword="null"/> when it is current or
    /// cannot be read at all.
    /// </summary>
    string? Reprotect(string server, string protectedPayload);

    /// <summary>Encrypts a server's secret <c>Env</c> and <c>Headers</c> values (another purpose than credentials: one ciphertext never reads as the other).</summary>
    string ProtectValues(string server, ServerSecretValues values);

    /// <summary>Decrypts what <see cref="ProtectValues"/> made; <see langword="null"/> when it cannot be.</summary>
    ServerSecretValues? UnprotectValues(string server, string protectedPayload);

    /// <summary>As <see cref="Reprotect"/>, for what <see cref="ProtectValues"/> made.</summary>
    string? ReprotectValues(string server, string protectedPayload);
}
