using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Audit;

/// <summary>
/// A signed statement "the chain's entry <see cref="Sequence"/> has hash <see cref="Hash"/>". Rewriting history then
/// needs the signing key as well as the database, and a checkpoint kept elsewhere (an export, a SIEM) shows a restored
/// older backup or a truncated tail.
/// </summary>
/// <param name="Sequence">The head's sequence number when signed.</param>
/// <param name="Hash">The head's hash.</param>
/// <param name="CreatedAt">When it was signed (UTC, milliseconds).</param>
/// <param name="KeyId">Which key signed (see <see cref="AuditCheckpoints.KeyId"/>).</param>
/// <param name="Signature">Base64 ECDSA P-256 signature (IEEE P1363, SHA-256) over <see cref="AuditCheckpoints.SignedText"/>.</param>
public sealed record AuditCheckpoint(long Sequence, string Hash, DateTimeOffset CreatedAt, string KeyId, string Signature);

/// <summary>Signing and checking checkpoints.</summary>
public static class AuditCheckpoints
{
    /// <summary>The canonical JSON that is signed.</summary>
    public static string SignedText(long sequence, string hash, DateTimeOffset createdAt)
    {
        var sb = new StringBuilder("{\"hash\":");
        CanonicalJson.WriteString(sb, hash);
        sb.Append(",\"seq\":").Append(sequence.ToString(CultureInfo.InvariantCulture));
        sb.Append(",\"ts\":\"").Append(AuditChain.FormatTimestamp(createdAt)).Append("\",\"type\":\"audit.checkpoint\",\"v\":1}");
        return sb.ToString();
    }

    /// <summary>Signs the head.</summary>
    public static AuditCheckpoint Sign(long sequence, string hash, DateTimeOffset createdAt, ECDsa key)
    {
        var at = AuditChain.Normalize(new AuditRecord { Timestamp = createdAt, Kind = string.Empty, Actor = string.Empty, Decision = string.Empty, Outcome = string.Empty }).Timestamp;
        var signature = key.SignData(Encoding.UTF8.GetBytes(SignedText(sequence, hash, at)), HashAlgorithmName.SHA256);
        return new AuditCheckpoint(sequence, hash, at, KeyId(key), Convert.ToBase64String(signature));
    }

    /// <summary>Whether <paramref name="checkpoint"/> was signed by <paramref name="publicKey"/> and is unchanged.</summary>
    public static bool IsValid(AuditCheckpoint checkpoint, ECDsa publicKey)
    {
        try
        {
            return checkpoint.KeyId == KeyId(publicKey)
                && publicKey.VerifyData(Encoding.UTF8.GetBytes(SignedText(checkpoint.Sequence, checkpoint.Hash, checkpoint.CreatedAt)), Convert.FromBase64String(checkpoint.Signature), HashAlgorithmName.SHA256);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The first 16 hex digits of the SHA-256 of the public key (DER SubjectPublicKeyInfo).</summary>
    public static string KeyId(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
}
