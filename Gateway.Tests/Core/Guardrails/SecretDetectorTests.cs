using Gateway.Core.Guardrails;

namespace Gateway.Tests.Core.Guardrails;

public sealed class SecretDetectorTests
{
    public static TheoryData<string, string> Secrets => Corpus.Read("secrets.txt");

    [Theory]
    [MemberData(nameof(Secrets))]
    public void TheCorpus_IsFoundAsExpected_AndNearMissesAreNot(string expected, string text)
    {
        List<SecretMatch>? matches = null;
        var found = SecretDetector.WellKnown.Find(text, ref matches);
        if (expected == "none")
        {
            Assert.False(found, $"reported {string.Join(", ", matches ?? [])}");
            return;
        }

        var match = Assert.Single(matches!);
        Assert.Equal(expected, match.Kind);

        // What would be hidden is the secret: what is left of the text no longer contains it.
        var redacted = ServerResultGuard.Redact(text, matches!);
        Assert.Contains($"[REDACTED:{expected}]", redacted, StringComparison.Ordinal);
        Assert.False(SecretDetector.WellKnown.Any(redacted), redacted);
    }

    [Fact]
    public void StoredCredentials_AreFoundVerbatim_LongestFirst_AndShortOnesAreIgnored()
    {
        var detector = new SecretDetector(["plain-stored-secret", "plain-stored-secret-longer", "admin"]);
        List<SecretMatch>? matches = null;
        Assert.True(detector.Find("a plain-stored-secret-longer and a plain-stored-secret, admin", ref matches));
        Assert.Equal([(2, 26, "stored-credential"), (35, 19, "stored-credential")], matches!.Select(m => (m.Start, m.Length, m.Kind)));
    }

    [Fact]
    public void ConfiguredPatterns_AreFound_WithoutOverlappingTheWellKnownFormats()
    {
        var detector = new SecretDetector(patterns: [SecretDetector.CompilePattern(@"ACME-[0-9]{6}"), SecretDetector.CompilePattern(@"AKIA[A-Z0-9]+")]);
        List<SecretMatch>? matches = null;
        Assert.True(detector.Find("id ACME-123456 and AKIAIOSFODNN7EXAMPLE", ref matches));
        Assert.Equal([("pattern", 3), ("aws-access-key", 19)], matches!.Select(m => (m.Kind, m.Start)));
    }

    [Fact]
    public void APatternNeedingBacktracking_IsRefused()
    {
        Assert.ThrowsAny<NotSupportedException>(() => SecretDetector.CompilePattern(@"(a)\1"));
    }
}
