using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Guardrails;

namespace Gateway.Tests.Core.Guardrails;

/// <summary>Findings in the audit: hashed when present, absent from (and so not changing) entries without them; token values masked in arguments.</summary>
public sealed class AuditFindingsTests
{
    private static readonly AuditRecord Record = new()
    {
        Timestamp = new DateTimeOffset(2026, 11, 30, 9, 0, 0, 123, TimeSpan.Zero),
        Kind = AuditKinds.ToolCall,
        Actor = "alice",
        Decision = "allow",
        Outcome = AuditOutcomes.Ok,
    };

    [Fact]
    public void AnEntryWithoutFindings_HasTheLayoutItAlwaysHad()
    {
        // Written out by hand as the layout was before findings existed: existing chains keep verifying.
        Assert.Equal(
            """{"actor":"alice","args_redacted":null,"args_sha256":null,"call_id":null,"decision":"allow","duration_ms":0,"error":null,"kind":"tool_call","outcome":"ok","prev":"ab","result_sha256":null,"rule":null,"seq":3,"server":null,"tool":null,"ts":"2026-11-30T09:00:00.123Z","v":1}""",
            AuditChain.CanonicalEntry(3, "ab", Record));
    }

    [Fact]
    public void Findings_AreHashed_InCanonicalOrder()
    {
        var with = Record with { Findings = """[{"at":"content[0].text@5","kind":"secret.aws-access-key"}]""" };
        var canonical = AuditChain.CanonicalEntry(3, "ab", with);
        Assert.Contains(""","error":null,"findings":"[{\"at\":\"content[0].text@5\",\"kind\":\"secret.aws-access-key\"}]","kind":""", canonical, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(canonical);
        Assert.Equal(canonical, CanonicalJson.Serialize(doc.RootElement));
        Assert.NotEqual(AuditChain.ComputeHash(3, "ab", Record), AuditChain.ComputeHash(3, "ab", with));
        Assert.NotEqual(AuditChain.ComputeHash(3, "ab", with), AuditChain.ComputeHash(3, "ab", with with { Findings = "[]" }));

        // And they survive the export's line format.
        var entry = AuditChain.Link(3, "ab", with);
        Assert.Equal(with.Findings, AuditJsonLines.ParseEntry(AuditJsonLines.Entry(entry)).Record.Findings);
        Assert.Null(AuditJsonLines.ParseEntry(AuditJsonLines.Entry(AuditChain.Link(3, "ab", Record))).Record.Findings);
    }

    // The location names the agent's argument key: a 1 MB key with 40 tokens made 32 findings of 1 MB each.
    [Fact]
    public void AFindingsLocation_IsCutAtItsLimit_SoAHugeKeyCannotGrowTheEntry()
    {
        var tokens = string.Join(' ', Enumerable.Repeat("AKIAIOSFODNN7EXAMPLE", 10));
        var key = new string('k', 1_000_000);
        using var doc = JsonDocument.Parse($$"""{"{{key}}":"{{tokens}}","{{new string('s', ResultScan.MaxLocation - "arguments.".Length)}}":"AKIAIOSFODNN7EXAMPLE"}""");
        var scan = new ResultScan();
        new ArgumentRedactor().Redact(doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value), scan);

        Assert.Equal(11, scan.Findings.Count);
        Assert.All(scan.Findings, f => Assert.True(f.Location.Length <= ResultScan.MaxLocation + 1, $"a location of {f.Location.Length} characters"));
        Assert.Contains(scan.Findings, f => f.Location == "arguments." + new string('s', ResultScan.MaxLocation - "arguments.".Length));
        Assert.Contains(scan.Findings, f => f.Location == "arguments." + new string('k', ResultScan.MaxLocation - "arguments.".Length) + "…");
        Assert.True(scan.ToAuditJson()!.Length < ResultScan.MaxFindings * (ResultScan.MaxLocation + 100));
    }

    [Fact]
    public void TokenShapedArgumentValues_AreMasked_WhateverTheirKey_AndRecordedWithoutTheValue()
    {
        using var doc = JsonDocument.Parse("""{"note":"use AKIAIOSFODNN7EXAMPLE now","nested":{"url":"https://bot:hunter2hunter2@example.com/x"},"password":"p"}""");
        var args = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        var scan = new ResultScan();
        var redacted = new ArgumentRedactor().Redact(args, scan)!;

        Assert.Equal("""{"nested":{"url":"https://[REDACTED:url-credentials]@example.com/x"},"note":"use [REDACTED:aws-access-key] now","password":"[redacted]"}""", redacted);
        Assert.Equal(
            [new GuardFinding("secret.url-credentials", "arguments.url"), new GuardFinding("secret.aws-access-key", "arguments.note")],
            scan.Findings);
        Assert.DoesNotContain("hunter2", scan.ToAuditJson()!, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredSecretPatterns_AreMaskedInArgumentsToo()
    {
        using var doc = JsonDocument.Parse("""{"note":"order ACME-123456"}""");
        var args = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        var guard = new ResultGuard(new GuardrailOptions { SecretPatterns = [@"ACME-[0-9]{6}"] });
        var scan = new ResultScan();
        Assert.Equal("""{"note":"order [REDACTED:pattern]"}""", new ArgumentRedactor(tokens: guard.Arguments).Redact(args, scan));
        Assert.Equal([new GuardFinding("secret.pattern", "arguments.note")], scan.Findings);
    }
}
