using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

/// <summary>The coverage rule: an entry older than the allowance must be covered by a signed checkpoint at or after it.</summary>
public sealed class AuditVerifierCoverageTests
{
    private static readonly DateTimeOffset Written = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static List<AuditChainEntry> Chain(int count)
    {
        var entries = new List<AuditChainEntry>();
        var previous = AuditChain.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var entry = AuditChain.Link(i, previous, AuditChain.Normalize(AuditChainTests.Sample(i) with { Timestamp = Written.AddSeconds(i) }));
            entries.Add(entry);
            previous = entry.Hash!;
        }

        return entries;
    }

    private static AuditVerification Verify(IEnumerable<AuditChainEntry> entries, DateTimeOffset now)
    {
        var verifier = new AuditVerifier().RequireCoverage(TimeSpan.FromSeconds(90), now);
        foreach (var entry in entries)
        {
            verifier.Add(entry);
        }

        return verifier.Complete();
    }

    [Fact]
    public void UncoveredEntries_YoungerThanTheAllowance_AreIntact()
    {
        var result = Verify(Chain(5), Written.AddSeconds(60));
        Assert.True(result.Intact, result.Problem);
        Assert.Equal(0, result.CheckpointsChecked);
    }

    [Fact]
    public void UncoveredEntries_OlderThanTheAllowance_NameTheFirst_AndSayNoCheckpointCoversAny()
    {
        var result = Verify(Chain(5), Written.AddMinutes(10));
        Assert.False(result.Intact);
        Assert.Equal(1, result.FirstBadSequence);
        Assert.Contains("no signed checkpoint covers any entry", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEntryCoveredByALaterCheckpoint_IsCovered_TheOnesAfterTheLastCheckpointAreNot()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var chain = Chain(6);
        var verifier = new AuditVerifier().RequireCoverage(TimeSpan.FromSeconds(90), Written.AddMinutes(10));
        verifier.AddCheckpoints([AuditCheckpoints.Sign(4, chain[3].Hash!, Written.AddSeconds(5), key)], key, "stored");
        foreach (var entry in chain)
        {
            verifier.Add(entry);
        }

        var result = verifier.Complete();
        Assert.False(result.Intact);
        Assert.Equal(5, result.FirstBadSequence);
    }
}
