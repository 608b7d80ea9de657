using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

public sealed class AuditChainTests
{
    internal static AuditRecord Sample(int i = 0) => new()
    {
        Timestamp = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero).AddMilliseconds(i * 7),
        Kind = AuditKinds.ToolCall,
        Actor = "agent-" + (i % 3),
        Server = "files",
        Tool = "files__echo",
        Decision = "allow",
        Outcome = AuditOutcomes.Ok,
        DurationMs = 1.25 + i,
        ArgumentsSha256 = new string('a', 64),
        ArgumentsRedacted = "{\"message\":\"héllo \\\"x\\\"\"}",
        CallId = "call-" + i,
    };

    [Fact]
    public void CanonicalEntry_IsItsOwnRfc8785Form_WithEveryFieldHashed()
    {
        var text = AuditChain.CanonicalEntry(42, AuditChain.Genesis, Sample() with { Error = "line\nbreak\u0001", Rule = null });

        using var doc = JsonDocument.Parse(text);
        Assert.Equal(text, CanonicalJson.Serialize(doc.RootElement));
        Assert.Equal(42, doc.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal(AuditChain.Genesis, doc.RootElement.GetProperty("prev").GetString());
        Assert.Equal("2026-11-24T09:00:00.000Z", doc.RootElement.GetProperty("ts").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("rule").ValueKind);
        Assert.Equal(17, doc.RootElement.EnumerateObject().Count());
    }

    [Fact]
    public void Hash_IsSha256OfTheCanonicalBytes()
    {
        var record = Sample();
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AuditChain.CanonicalEntry(7, "ab", record))));
        Assert.Equal(expected, AuditChain.ComputeHash(7, "ab", record));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("é€𝄞🙂 and a long tail")]
    public void Hash_IsTheSameForTextOfAnyLength_IncludingCharactersOutsideTheBasicPlane(string text)
    {
        // Long enough that the builder holds it in several chunks, which may split a surrogate pair.
        var record = Sample() with { Error = string.Concat(Enumerable.Repeat(text, 700)), ArgumentsRedacted = "🙂" + new string('x', 5000) + "🙂" };
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AuditChain.CanonicalEntry(9, "ab", record))));
        Assert.Equal(expected, AuditChain.ComputeHash(9, "ab", record));
    }

    public static TheoryData<string> Changes => ["Actor", "Server", "Tool", "Decision", "Rule", "Outcome", "DurationMs", "Error", "ArgumentsSha256", "ArgumentsRedacted", "CallId", "Kind", "Timestamp", "Sequence", "PreviousHash", "ResultSha256"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Hash_ChangesWithEveryField(string field)
    {
        var r = Sample();
        var baseline = AuditChain.ComputeHash(5, AuditChain.Genesis, r);
        var changed = field switch
        {
            "Actor" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Actor = "other" }),
            "Server" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Server = null }),
            "Tool" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Tool = "files__Echo" }),
            "Decision" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Decision = "block" }),
            "Rule" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Rule = "" }),
            "Outcome" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Outcome = "error" }),
            "DurationMs" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { DurationMs = r.DurationMs + 0.001 }),
            "Error" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Error = "" }),
            "ArgumentsSha256" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { ArgumentsSha256 = new string('b', 64) }),
            "ArgumentsRedacted" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { ArgumentsRedacted = "{}" }),
            "CallId" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { CallId = "call-1" }),
            "Kind" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Kind = AuditKinds.ToolCallStarted }),
            "Timestamp" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { Timestamp = r.Timestamp.AddMilliseconds(1) }),
            "Sequence" => AuditChain.ComputeHash(6, AuditChain.Genesis, r),
            "ResultSha256" => AuditChain.ComputeHash(5, AuditChain.Genesis, r with { ResultSha256 = new string('c', 64) }),
            _ => AuditChain.ComputeHash(5, new string('1', 64), r),
        };
        Assert.NotEqual(baseline, changed);
    }

    [Fact]
    public void Normalize_KeepsMillisecondsInUtc_SoARowReadBackHashesTheSame()
    {
        var local = new DateTimeOffset(2026, 11, 24, 10, 0, 0, 123, TimeSpan.FromHours(1)).AddTicks(4567);
        var normalized = AuditChain.Normalize(Sample() with { Timestamp = local });
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 9, 0, 0, 123, TimeSpan.Zero), normalized.Timestamp);
        Assert.Equal(TimeSpan.Zero, normalized.Timestamp.Offset);
    }

    [Fact]
    public void Verifier_AcceptsAChainBuiltByLink_AndNamesTheFirstChangedEntry()
    {
        var chain = Build(20);
        var ok = new AuditVerifier();
        Assert.All(chain, e => Assert.True(ok.Add(e)));
        Assert.Equal(new AuditVerification(true, 20, 20, 0, null, null), ok.Complete());

        var tampered = chain.Select(e => e.Sequence == 13 ? e with { Record = e.Record with { Outcome = "error" } } : e);
        var bad = new AuditVerifier();
        foreach (var e in tampered)
        {
            bad.Add(e);
        }

        var result = bad.Complete();
        Assert.False(result.Intact);
        Assert.Equal(13, result.FirstBadSequence);
        Assert.Contains("does not match its hash", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoints_AreSignedAndChecked_AndOneBeyondTheEndMeansATruncatedTail()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var chain = Build(10);
        var checkpoint = AuditCheckpoints.Sign(10, chain[9].Hash!, DateTimeOffset.UtcNow, key);
        Assert.True(AuditCheckpoints.IsValid(checkpoint, key));
        Assert.False(AuditCheckpoints.IsValid(checkpoint with { Sequence = 9 }, key));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(AuditCheckpoints.IsValid(checkpoint, other));

        var verifier = new AuditVerifier();
        verifier.AddCheckpoints([checkpoint], key, "stored");
        foreach (var e in chain.Take(8))
        {
            verifier.Add(e);
        }

        var result = verifier.Complete();
        Assert.Equal(9, result.FirstBadSequence);
        Assert.Contains("tail truncated", result.Problem, StringComparison.Ordinal);
    }

    internal static List<AuditChainEntry> Build(int count)
    {
        var list = new List<AuditChainEntry>();
        var previous = AuditChain.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var entry = AuditChain.Link(i, previous, AuditChain.Normalize(Sample(i)));
            list.Add(entry);
            previous = entry.Hash!;
        }

        return list;
    }
}
