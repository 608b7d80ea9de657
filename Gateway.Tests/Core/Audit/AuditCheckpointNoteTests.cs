using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

/// <summary>Checkpoints as C2SP signed notes: the layout third-party tools read, and what a reader refuses.</summary>
public sealed class AuditCheckpointNoteTests
{
    private const string Origin = "gateway.example/audit";
    private static readonly string Hash = Convert.ToHexStringLower(SHA256.HashData("head"u8));

    [Fact]
    public void Note_HasTheCheckpointLayout_AndOpensWithTheKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = AuditCheckpoints.Sign(42, Hash, new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero), key);

        var note = AuditCheckpointNote.Format(checkpoint, Origin, key);

        var lines = note.Split('\n');
        Assert.Equal([Origin, "42", Convert.ToBase64String(Convert.FromHexString(Hash)), "time 2026-12-01T12:00:00.000Z", string.Empty], lines[..5]);
        Assert.StartsWith("\u2014 " + Origin + " ", lines[5], StringComparison.Ordinal);
        var signature = Convert.FromBase64String(lines[5][(Origin.Length + 3)..]);
        Assert.Equal(SHA256.HashData(key.ExportSubjectPublicKeyInfo())[..4], signature[..4]);

        // The signature is DER ECDSA over the note's text up to and including its last body newline.
        Assert.True(key.VerifyData(Encoding.UTF8.GetBytes(string.Join('\n', lines[..4]) + "\n"), signature[4..], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var opened = AuditCheckpointNote.Open(note, Origin, key);
        Assert.Equal((42L, Hash, checkpoint.CreatedAt), (opened!.Sequence, opened.Hash, opened.CreatedAt));
    }

    [Fact]
    public void Note_OfAnotherOriginOrKey_IsSkipped_AndAChangedOneIsRefused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var note = AuditCheckpointNote.Format(AuditCheckpoints.Sign(7, Hash, DateTimeOffset.UtcNow, key), Origin, key);

        Assert.Null(AuditCheckpointNote.Open(note, "another/log", key));
        Assert.Null(AuditCheckpointNote.Open(note, Origin, other));
        var changed = note.Replace("\n7\n", "\n9\n", StringComparison.Ordinal);
        Assert.Contains("does not verify", Assert.Throws<FormatException>(() => AuditCheckpointNote.Open(changed, Origin, key)).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => AuditCheckpointNote.Open(Origin + "\n7\n", Origin, key));
        Assert.Throws<FormatException>(() => AuditCheckpointNote.Open(new string('x', AuditCheckpointNote.MaxLength + 1), Origin, key));
    }
}
