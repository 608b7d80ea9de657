using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// Every tools/call leaves one completion record (who, what, decision, outcome, duration, a hash and a redacted copy of
/// the arguments); a forwarded call is also recorded as started, before it is forwarded, under the same call id.
/// </summary>
public sealed class ToolCallAuditTests
{
    private const string Key = "audit-agent-key-01234567";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task EachCall_IsRecordedOnce_WithDecisionOutcomeAndArgumentHash(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Stdio("files"), Agent("auditor", Key, "files/echo", "files/fail")));
        await gateway.WaitForToolAsync("files__echo");
        await using var client = await gateway.ConnectAsync(Key);

        await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "audited" }, cancellationToken: TestContext.Timeout);
        await client.CallToolAsync("files__fail", new Dictionary<string, object?> { ["reason"] = "r" }, cancellationToken: TestContext.Timeout);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("files__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask());

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var factory = gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        await using var db = await factory.CreateDbContextAsync(TestContext.Timeout);
        // The bootstrap admin's creation (an admin change) comes before the calls.
        var all = await db.AuditEntries.Where(a => a.Kind != AuditKinds.AdminChange).OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
        var rows = all.Where(r => r.Kind == AuditKinds.ToolCall).ToList();
        var started = all.Where(r => r.Kind == AuditKinds.ToolCallStarted).ToList();

        Assert.Equal(
            [("files__echo", "allow", "ok"), ("files__fail", "allow", "tool_error"), ("files__add", "deny", "denied")],
            rows.Select(r => (r.Tool!, r.Decision, r.Outcome)));
        Assert.All(rows, r => Assert.Equal(("auditor", AuditKinds.ToolCall, "files"), (r.Actor, r.Kind, r.Server!)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => all[0].Sequence + i), all.Select(r => r.Sequence));

        // The two forwarded calls each have a started entry before their completion, with the same call id; the denied one has none.
        Assert.Equal([("files__echo", "started"), ("files__fail", "started")], started.Select(r => (r.Tool!, r.Outcome)));
        Assert.Equal(started.Select(s => s.CallId), rows.Take(2).Select(r => r.CallId));
        Assert.All(started.Zip(rows), p => Assert.True(p.First.Sequence < p.Second.Sequence));
        Assert.Null(rows[2].CallId);

        // The result is kept as the SHA-256 of its canonical JSON; a refused call has none.
        Assert.Matches("^[0-9a-f]{64}$", rows[0].ResultSha256);
        Assert.NotEqual(rows[0].ResultSha256, rows[1].ResultSha256);
        Assert.Null(rows[2].ResultSha256);
        Assert.Equal("""{"message":"audited"}""", rows[0].ArgumentsRedacted);
        Assert.True(rows[0].DurationMs > 0);

        using var args = JsonDocument.Parse("""{"message":"audited"}""");
        Assert.Equal(CanonicalJson.Sha256(args.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value)), rows[0].ArgumentsSha256);
        Assert.DoesNotContain(rows, r => (r.Error ?? string.Empty).Contains("audited", StringComparison.Ordinal));

        var verification = AuditSinkChainTests.Verify(await gateway.AuditTrailAsync());
        Assert.True(verification.Intact, verification.Problem);
    }
}
