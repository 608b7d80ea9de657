using System.Security.Cryptography;
using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

/// <summary>
/// Checkpoints are read along with the entries, not held: a source is pulled only as far as the entries have come, a
/// stream out of sequence order fails verification, and a bad signature is still named at its entry.
/// </summary>
public sealed class AuditVerifierStreamingTests
{
    /// <summary>A stream (not a collection) that records how far it has been read.</summary>
    private sealed class Pulled(IEnumerable<AuditCheckpoint> checkpoints)
    {
        public long Furthest { get; private set; }

        public IEnumerable<AuditCheckpoint> Stream()
        {
            foreach (var checkpoint in checkpoints)
            {
                Furthest = checkpoint.Sequence;
                yield return checkpoint;
            }
        }
    }

    [Fact]
    public void Checkpoints_AreReadAlongWithTheEntries_NotAllAtOnce()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = AuditChainTests.Build(200);
        var pulled = new Pulled(chain.Select(e => AuditCheckpoints.Sign(e.Sequence, e.Hash!, DateTimeOffset.UtcNow, key)));
        using var verifier = new AuditVerifier();
        verifier.AddCheckpoints(pulled.Stream(), key, "stored");
        Assert.Equal(1, pulled.Furthest);

        foreach (var entry in chain)
        {
            Assert.True(verifier.Add(entry));

            // At most the checkpoint after this entry has been read.
            Assert.InRange(pulled.Furthest, entry.Sequence, entry.Sequence + 1);
        }

        var result = verifier.Complete();
        Assert.True(result.Intact, result.Problem);
        Assert.Equal(200, result.CheckpointsChecked);
    }

    [Fact]
    public void AStreamOutOfSequenceOrder_FailsVerification()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = AuditChainTests.Build(10);
        AuditCheckpoint Signed(int sequence) => AuditCheckpoints.Sign(sequence, chain[sequence - 1].Hash!, DateTimeOffset.UtcNow, key);

        using var verifier = new AuditVerifier();
        verifier.AddCheckpoints(new Pulled([Signed(5), Signed(3), Signed(8)]).Stream(), key, "exported");
        foreach (var entry in chain)
        {
            verifier.Add(entry);
        }

        var result = verifier.Complete();
        Assert.False(result.Intact);
        Assert.Equal(3, result.FirstBadSequence);
        Assert.Contains("the exported checkpoints are out of order at entry 3 (after one at entry 5)", result.Problem, StringComparison.Ordinal);

        // The same checkpoints held in memory (a caller's list) are put in order: intact.
        using var sorted = new AuditVerifier();
        sorted.AddCheckpoints([Signed(5), Signed(3), Signed(8)], key, "exported");
        foreach (var entry in chain)
        {
            sorted.Add(entry);
        }

        Assert.Equal((true, 3), (sorted.Complete() is var ok ? ok.Intact : false, ok.CheckpointsChecked));
    }

    [Fact]
    public void ABadSignature_IsNamedAtItsEntry_AfterAnEarlierBadEntry_AndInAFilteredExportsGap_AtTheEnd()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = AuditChainTests.Build(10);
        var forged = AuditCheckpoints.Sign(6, chain[5].Hash!, DateTimeOffset.UtcNow, key) with { Hash = chain[5].Hash!.Replace('a', 'b').Replace('0', '1') };
        var good = AuditCheckpoints.Sign(4, chain[3].Hash!, DateTimeOffset.UtcNow, key);

        // Reached: named at entry 6.
        using (var verifier = new AuditVerifier())
        {
            verifier.AddCheckpoints(new Pulled([good, forged]).Stream(), key, "stored");
            foreach (var entry in chain)
            {
                verifier.Add(entry);
            }

            var result = verifier.Complete();
            Assert.Equal(6, result.FirstBadSequence);
            Assert.Contains("the stored checkpoint at entry 6 has an invalid signature", result.Problem, StringComparison.Ordinal);
        }

        // An entry changed before it is the one named.
        using (var verifier = new AuditVerifier())
        {
            verifier.AddCheckpoints(new Pulled([good, forged]).Stream(), key, "stored");
            foreach (var entry in chain)
            {
                verifier.Add(entry.Sequence == 2 ? entry with { Record = entry.Record with { Tool = "changed" } } : entry);
            }

            Assert.Equal(2, verifier.Complete().FirstBadSequence);
        }

        // A filtered export without entry 6: the forged checkpoint in its gap is still named, at the end.
        using (var filtered = new AuditVerifier(complete: false))
        {
            filtered.AddCheckpoints(new Pulled([good, forged]).Stream(), key, "exported");
            foreach (var entry in chain.Where(e => e.Sequence != 6))
            {
                filtered.Add(entry);
            }

            var result = filtered.Complete();
            Assert.Equal(6, result.FirstBadSequence);
            Assert.Contains("has an invalid signature", result.Problem, StringComparison.Ordinal);
        }
    }
}
