using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Audit;

/// <summary>
/// A checkpoint as a C2SP signed note (<see href="https://c2sp.org/tlog-checkpoint"/>, <see href="https://c2sp.org/signed-note"/>),
/// the format transparency-log witnesses and tools read:
/// <code>
/// &lt;origin&gt;
/// &lt;size: the head's sequence number&gt;
/// &lt;base64 of the head's 32-byte hash&gt;
/// time &lt;when it was signed, RFC 3339 UTC&gt;
///
/// — &lt;origin&gt; &lt;base64(4-byte key hash || DER ECDSA P-256 SHA-256 signature over the lines above)&gt;
/// </code>
/// </summary>
/// <remarks>
/// One deviation: the trail is a hash chain, not a Merkle tree, so the "root hash" is the head entry's chain hash
/// (which commits to every entry before it) and no inclusion or consistency proof can be given; a witness can only
/// keep what it was sent, and the gateway's own verifier compares the chain with it. The key hash is that of the
/// signed-note ECDSA signature type: the first four bytes of the SHA-256 of the DER SubjectPublicKeyInfo.
/// </remarks>
public static class AuditCheckpointNote
{
    /// <summary>The signature line's prefix: an em dash (U+2014) and a space.</summary>
    public const string SignaturePrefix = "\u2014 ";

    /// <summary>The longest note read back (a witness hands out what anyone may have written there).</summary>
    public const int MaxLength = 4096;

    private const string TimePrefix = "time ";

    /// <summary>The origin a gateway uses unless one is configured: unique to its signing key.</summary>
    public static string DefaultOrigin(ECDsa key) => "mcp-gateway/audit/" + AuditCheckpoints.KeyId(key);

    /// <summary>Writes <paramref name="checkpoint"/> as a note signed by <paramref name="privateKey"/>.</summary>
    public static string Format(AuditCheckpoint checkpoint, string origin, ECDsa privateKey)
    {
        var body = Body(origin, checkpoint.Sequence, checkpoint.Hash, checkpoint.CreatedAt);
        var signature = privateKey.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return body + "\n" + SignaturePrefix + origin + " " + Convert.ToBase64String([.. KeyHash(privateKey), .. signature]) + "\n";
    }

    /// <summary>
    /// Reads a note and checks it was signed by <paramref name="publicKey"/> for <paramref name="origin"/>; the checkpoint's
    /// <see cref="AuditCheckpoint.Signature"/> is empty (the note's signature was the one checked).
    /// </summary>
    /// <returns>The checkpoint, or <see langword="null"/> when the note is of another log (another origin or key).</returns>
    /// <exception cref="FormatException">The note is malformed, or claims our origin and key with a signature that does not verify.</exception>
    public static AuditCheckpoint? Open(string note, string origin, ECDsa publicKey)
    {
        if (note.Length > MaxLength)
        {
            throw new FormatException($"the note is longer than {MaxLength} characters");
        }

        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new FormatException("no blank line between the checkpoint and its signatures");
        }

        var body = note[..(split + 1)];
        var lines = body.Split('\n');
        if (lines.Length < 4 || lines[0] != origin)
        {
            return lines.Length >= 4 ? null : throw new FormatException("a checkpoint has an origin, a size and a root hash");
        }

        var expected = KeyHash(publicKey);
        byte[]? signature = null;
        foreach (var line in note[(split + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith(SignaturePrefix + origin + " ", StringComparison.Ordinal))
            {
                continue;
            }

            var bytes = Convert.FromBase64String(line[(SignaturePrefix.Length + origin.Length + 1)..]);
            if (bytes.Length > 4 && bytes.AsSpan(0, 4).SequenceEqual(expected))
            {
                signature = bytes[4..];
                break;
            }
        }

        if (signature is null)
        {
            return null;
        }

        if (!publicKey.VerifyData(Encoding.UTF8.GetBytes(body), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            throw new FormatException("its signature does not verify (forged or changed)");
        }

        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
        {
            throw new FormatException($"'{lines[1]}' is not a tree size");
        }

        var hash = Convert.FromBase64String(lines[2]);
        var at = lines.Skip(3).FirstOrDefault(l => l.StartsWith(TimePrefix, StringComparison.Ordinal)) is { } time
            ? DateTimeOffset.Parse(time[TimePrefix.Length..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
            : DateTimeOffset.UnixEpoch;
        return hash.Length == 32
            ? new AuditCheckpoint(size, Convert.ToHexStringLower(hash), at, AuditCheckpoints.KeyId(publicKey), string.Empty)
            : throw new FormatException("the root hash is not 32 bytes");
    }

    /// <summary>The signed-note key hash of an ECDSA key: the first 4 bytes of the SHA-256 of its DER SubjectPublicKeyInfo.</summary>
    public static byte[] KeyHash(ECDsa key) => SHA256.HashData(key.ExportSubjectPublicKeyInfo())[..4];

    private static string Body(string origin, long size, string hash, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"{origin}\n{size}\n{Convert.ToBase64String(Convert.FromHexString(hash))}\n{TimePrefix}{AuditChain.FormatTimestamp(at)}\n");
}
