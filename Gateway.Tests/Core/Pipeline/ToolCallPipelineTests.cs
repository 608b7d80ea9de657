using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Grants;
using Gateway.Core.Limits;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Core.Pipeline;

/// <summary>
/// The spine of every tool call, driven directly: the real Core pipeline, audit writer and approval gate on a real
/// SQLite file, a fake clock, and a forwarder that answers in-process. Each decision is read back from the audit file.
/// </summary>
public sealed class ToolCallPipelineTests : IAsyncLifetime
{
    private static readonly PolicyEngine AllowAll = new([], new PolicyDefaults(PolicyEffect.Allow, PolicyEffect.Allow, PolicyEffect.Allow));

    // files: read (read), write (write), wipe (destructive); vault: open, which alice is not granted.
    private static readonly NamespacedCatalog<string> Catalog = NamespacedCatalog<string>.Build([
        new ServerItems<string>("files", "files__", [("read", "def:read"), ("write", "def:write"), ("wipe", "def:wipe")], Classify),
        new ServerItems<string>("vault", "vault__", [("open", "def:open")]),
    ]);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private AuditDatabase _db = null!;

    public async Task InitializeAsync() => _db = await AuditDatabase.OpenAsync();

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static AgentIdentity Alice { get; } = new(7, "alice", GrantSet.Parse(["files/*:destructive"], []));

    private static AccessClass Classify(string definition) => definition switch
    {
        "def:read" => AccessClass.Read,
        "def:wipe" => AccessClass.Destructive,
        _ => AccessClass.Write,
    };

    private static IDictionary<string, JsonElement> Args(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    private ToolCallPipeline Pipeline(PolicyEngine? policy = null, IApprovalGate? approvals = null, CallLimiter? limiter = null) =>
        new(_db.Sink, new StaticPolicySource(policy ?? AllowAll), approvals ?? new RefusingApprovalGate(), new PolicyMessages(), _time, limiter: limiter);

    /// <summary>The call entries in the file, once everything queued is written.</summary>
    private async Task<List<AuditRecord>> CallEntriesAsync()
    {
        await _db.Flusher.FlushAsync(TestContext.Timeout);
        return [.. CallEntriesNow()];
    }

    /// <summary>The call entries committed so far, without waiting for anything queued.</summary>
    private IEnumerable<AuditRecord> CallEntriesNow() =>
        _db.Reader.ReadEntries().Select(e => e.Record).Where(r => r.Kind is AuditKinds.ToolCall or AuditKinds.ToolCallStarted);

    [Fact]
    public async Task UnknownTool_IsRefusedAsAValue_AuditedAsDenied_AndNeverForwarded()
    {
        var forwarder = new TestForwarder(Catalog);
        var outcome = await Pipeline().RunAsync(new ToolCall(Alice, "files__nope", null), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.UnknownTool, outcome.Refusal);
        Assert.Equal(ToolCallPipeline.UnknownTool("files__nope"), outcome.Message);
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditKinds.ToolCall, AuditOutcomes.Denied, "deny", (string?)null), (entry.Kind, entry.Outcome, entry.Decision, entry.Server));
    }

    [Fact]
    public async Task UngrantedTool_GetsTheSameAnswerAsAnUnknownOne_TheAuditNamesItsServer()
    {
        var forwarder = new TestForwarder(Catalog);
        var outcome = await Pipeline().RunAsync(new ToolCall(Alice, "vault__open", null), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.UnknownTool, outcome.Refusal);
        Assert.Equal(ToolCallPipeline.UnknownTool("vault__open"), outcome.Message);
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditOutcomes.Denied, "vault"), (entry.Outcome, entry.Server));
    }

    [Fact]
    public async Task GrantedToolOfADownUpstream_IsRefusedAsUnavailable_AsAValueNotAnException()
    {
        // files is down: its tools are only in the offline catalog.
        var forwarder = new TestForwarder(NamespacedCatalog<string>.Empty, offline: Catalog);
        var outcome = await Pipeline().RunAsync(new ToolCall(Alice, "files__read", null), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.Unavailable, outcome.Refusal);
        Assert.Equal("Server 'files' is unavailable.", outcome.Message);
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditOutcomes.Error, "allow", "files", outcome.Message), (entry.Outcome, entry.Decision, entry.Server, entry.Error));

        // An ungranted tool of a down upstream stays unknown: being down tells nothing about tools the agent may not see.
        var hidden = await Pipeline().RunAsync(new ToolCall(Alice, "vault__open", null), new TestForwarder(NamespacedCatalog<string>.Empty, offline: Catalog), TestContext.Timeout);
        Assert.Equal(Refusal.UnknownTool, hidden.Refusal);
    }

    [Fact]
    public async Task PolicyBlock_IsRefusedWithTheRuleName_AuditedWithTheRule_AndNeverForwarded()
    {
        var policy = new PolicyEngine([new PolicyRule { Name = "no-wipe", Effect = PolicyEffect.Block, Tools = ["wipe"], Reason = "wiping is off" }]);
        var forwarder = new TestForwarder(Catalog);
        var outcome = await Pipeline(policy).RunAsync(new ToolCall(Alice, "files__wipe", Args("""{"path":"/"}""")), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.Policy, outcome.Refusal);
        Assert.Equal("Blocked by policy rule 'no-wipe': wiping is off", outcome.Message);
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditOutcomes.Denied, "block", "no-wipe", "wiping is off"), (entry.Outcome, entry.Decision, entry.Rule, entry.Error));
        Assert.NotNull(entry.ArgumentsSha256);
    }

    [Fact]
    public async Task Escalation_Approved_IsForwardedOnce_AndAuditedAsEscalated()
    {
        var (gate, store) = Gate();
        var forwarder = new TestForwarder(Catalog);
        var running = Pipeline(new PolicyEngine([]), gate).RunAsync(new ToolCall(Alice, "files__wipe", Args("""{"path":"/tmp"}""")), forwarder, TestContext.Timeout).AsTask();

        var approval = await PendingAsync(store);
        Assert.Equal(("files", "wipe", forwarder.DefinitionSha256("def:wipe")), (approval.Server, approval.Tool, approval.ToolDefinitionSha256));
        Assert.Equal(0, forwarder.Forwarded);
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, approve: true, "bob", "fine", TestContext.Timeout));

        var outcome = await running;
        Assert.Equal(Refusal.None, outcome.Refusal);
        Assert.Equal("answer of wipe", outcome.Result!.Text);
        Assert.Equal(1, forwarder.Forwarded);
        var entries = await CallEntriesAsync();
        Assert.Equal([AuditKinds.ToolCallStarted, AuditKinds.ToolCall], entries.Select(e => e.Kind));
        Assert.All(entries, e => Assert.Equal("escalate", e.Decision));
        Assert.Equal(AuditOutcomes.Ok, entries[1].Outcome);
    }

    [Fact]
    public async Task Escalation_Approved_WhoseCallerLostItsStandingWhileWaiting_IsNotForwarded()
    {
        var (gate, store) = Gate();
        var forwarder = new TestForwarder(Catalog);
        var standing = new KeyRevocations();
        var pipeline = new ToolCallPipeline(_db.Sink, new StaticPolicySource(new PolicyEngine([])), gate, new PolicyMessages(), _time, standing: standing);
        var running = pipeline.RunAsync(new ToolCall(Alice, "files__wipe", null) { Credential = "alice-key" }, forwarder, TestContext.Timeout).AsTask();

        var approval = await PendingAsync(store);
        standing.Revoke("alice-key");
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, approve: true, "bob", "fine", TestContext.Timeout));

        var outcome = await running;
        Assert.Equal((Refusal.Policy, "alice-key was revoked"), (outcome.Refusal, outcome.Message));
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditOutcomes.Denied, "escalate", "alice-key was revoked"), (entry.Outcome, entry.Decision, entry.Error));
    }

    [Fact]
    public async Task Escalation_Denied_IsAPolicyRefusalWithTheApproversWord()
    {
        var (gate, store) = Gate();
        var forwarder = new TestForwarder(Catalog);
        var running = Pipeline(new PolicyEngine([]), gate).RunAsync(new ToolCall(Alice, "files__wipe", null), forwarder, TestContext.Timeout).AsTask();

        var approval = await PendingAsync(store);
        Assert.Equal(DecisionResult.Decided, await gate.DecideAsync(approval.Id, approve: false, "bob", "not today", TestContext.Timeout));

        var outcome = await running;
        Assert.Equal(Refusal.Policy, outcome.Refusal);
        Assert.Contains("not today", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(0, forwarder.Forwarded);
        var entry = Assert.Single(await CallEntriesAsync());
        Assert.Equal((AuditOutcomes.Denied, "escalate", outcome.Message), (entry.Outcome, entry.Decision, entry.Error));
    }

    [Fact]
    public async Task Escalation_NobodyDecides_IsRefusedAtExpiry()
    {
        var (gate, store) = Gate();
        var forwarder = new TestForwarder(Catalog);
        var running = Pipeline(new PolicyEngine([]), gate).RunAsync(new ToolCall(Alice, "files__wipe", null), forwarder, TestContext.Timeout).AsTask();
        await PendingAsync(store);

        // The fake clock passes the five minutes in steps, each letting the gate's wait run; no real time is spent on them.
        for (var i = 0; i < 400 && !running.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(running, Task.Delay(10));
        }

        var outcome = await running;
        Assert.Equal(Refusal.Policy, outcome.Refusal);
        Assert.Contains("expired", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(0, forwarder.Forwarded);
        Assert.Equal(AuditOutcomes.Denied, Assert.Single(await CallEntriesAsync()).Outcome);
    }

    [Fact]
    public async Task TheStartedEntry_IsCommittedBeforeTheUpstreamSeesTheCall()
    {
        List<AuditRecord>? seenByUpstream = null;
        var forwarder = new TestForwarder(Catalog)
        {
            Upstream = (entry, _) =>
            {
                seenByUpstream = [.. CallEntriesNow()];
                return ValueTask.FromResult(new TestResult("done"));
            },
        };

        var outcome = await Pipeline().RunAsync(new ToolCall(Alice, "files__write", Args("""{"path":"a"}""")), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.None, outcome.Refusal);
        var started = Assert.Single(seenByUpstream!);
        Assert.Equal((AuditKinds.ToolCallStarted, AuditOutcomes.Started, "files", "files__write"), (started.Kind, started.Outcome, started.Server, started.Tool));
        var entries = await CallEntriesAsync();
        Assert.Equal(2, entries.Count);
        Assert.Equal(started.CallId, entries[1].CallId);
        Assert.Equal((AuditOutcomes.Ok, forwarder.ResultSha256(new TestResult("done"))), (entries[1].Outcome, entries[1].ResultSha256));
    }

    [Fact]
    public async Task ToolError_IsAResult_NotARefusal_AuditedAsToolError()
    {
        var forwarder = new TestForwarder(Catalog) { Upstream = (_, _) => ValueTask.FromResult(new TestResult("no such file", IsError: true)) };
        var outcome = await Pipeline().RunAsync(new ToolCall(Alice, "files__read", null), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.None, outcome.Refusal);
        Assert.True(outcome.Result!.IsError);
        Assert.Equal(AuditOutcomes.ToolError, (await CallEntriesAsync())[1].Outcome);
    }

    [Fact]
    public async Task UpstreamFailures_AreThrownToTheHost_AndAuditedWithWhatHappened()
    {
        var timeout = new TestForwarder(Catalog) { Upstream = (_, _) => throw new UpstreamTimeoutException("files", TimeSpan.FromSeconds(5)) };
        var timedOut = await Assert.ThrowsAsync<UpstreamTimeoutException>(async () => await Pipeline().RunAsync(new ToolCall(Alice, "files__read", null), timeout, TestContext.Timeout));

        var broken = new TestForwarder(Catalog) { Upstream = async (_, _) => { await Task.Yield(); throw new InvalidOperationException("connection reset"); } };
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Pipeline().RunAsync(new ToolCall(Alice, "files__write", null), broken, TestContext.Timeout));

        var completions = (await CallEntriesAsync()).Where(e => e.Kind == AuditKinds.ToolCall).ToList();
        Assert.Equal((AuditOutcomes.Timeout, timedOut.Message), (completions[0].Outcome, completions[0].Error));
        Assert.Equal((AuditOutcomes.Error, "connection reset"), (completions[1].Outcome, completions[1].Error));
    }

    // An upstream's error is its own text, as long as it likes: the entry keeps its first 4,096 characters and says how
    // many more there were (the agent still gets the upstream's error as it came, within the result limit).
    [Fact]
    public async Task AnUpstreamsLongError_IsCutInTheAudit()
    {
        var message = new string('e', 100_000);
        var failing = new TestForwarder(Catalog) { Upstream = (_, _) => throw new InvalidOperationException(message) };
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await Pipeline().RunAsync(new ToolCall(Alice, "files__read", null), failing, TestContext.Timeout));
        Assert.Equal(100_000, thrown.Message.Length);

        var completion = Assert.Single(await CallEntriesAsync(), e => e.Kind == AuditKinds.ToolCall);
        Assert.Equal(new string('e', AuditText.MaxError) + $"…[{100_000 - AuditText.MaxError} more chars]", completion.Error);
    }

    [Fact]
    public async Task Limits_RefuseTheCallAsAValue_WithWhenToRetry_BeforeItIsForwarded()
    {
        var limiter = new CallLimiter(new UsageCounters(), new LimitOptions(), _time);
        var limited = Alice with { Limits = new AgentLimits(RequestsPerMinute: 1) };
        var forwarder = new TestForwarder(Catalog);

        var first = await Pipeline(limiter: limiter).RunAsync(new ToolCall(limited, "files__read", null), forwarder, TestContext.Timeout);
        var second = await Pipeline(limiter: limiter).RunAsync(new ToolCall(limited, "files__read", null), forwarder, TestContext.Timeout);

        Assert.Equal(Refusal.None, first.Refusal);
        Assert.Equal((Refusal.Limited, LimitKind.RequestsPerMinute, TimeSpan.FromSeconds(60)), (second.Refusal, second.Limit, second.RetryAfter));
        Assert.Equal(1, forwarder.Forwarded);
        var denied = (await CallEntriesAsync()).Last();
        Assert.Equal((AuditOutcomes.Denied, second.Message), (denied.Outcome, denied.Error));
    }

    [Fact]
    public async Task InputRequired_ContinuesAsTheNextRound_WhichSkipsPolicy_ButNotTheGrant()
    {
        // Round 1 is allowed, and the upstream asks the agent for input instead of answering.
        var asking = new TestForwarder(Catalog) { Upstream = (_, _) => throw new UpstreamInputRequiredException("which file?") };
        var first = await Pipeline().RunAsync(new ToolCall(Alice, "files__write", null), asking, TestContext.Timeout);
        Assert.Equal((Refusal.None, "which file?"), (first.Refusal, first.InputRequired));
        var next = first.Continuation!;
        Assert.Equal((2, "allow"), (next.Round, next.Decision));

        // Round 2 under a policy that now blocks everything: decided in round 1, so it goes through, under round 1's id.
        var blockAll = new PolicyEngine([], new PolicyDefaults(PolicyEffect.Block, PolicyEffect.Block, PolicyEffect.Block));
        var answering = new TestForwarder(Catalog);
        var second = await Pipeline(blockAll).RunAsync(new ToolCall(Alice, "files__write", null) { Continuing = next }, answering, TestContext.Timeout);
        Assert.Equal(Refusal.None, second.Refusal);
        Assert.Equal(1, answering.Forwarded);

        // The grant is asked again: a continuation names no tool the agent may not call.
        var ungranted = await Pipeline(blockAll).RunAsync(new ToolCall(Alice, "vault__open", null) { Continuing = next }, answering, TestContext.Timeout);
        Assert.Equal(Refusal.UnknownTool, ungranted.Refusal);

        var entries = (await CallEntriesAsync()).Where(e => e.Server == "files").ToList();
        Assert.Equal(AuditOutcomes.InputRequired, entries[1].Outcome);
        Assert.Equal(next.CallId, entries[0].CallId);
        Assert.Equal(next.RoundCallId, entries[2].CallId);
        Assert.Equal((AuditOutcomes.Ok, "allow", next.RoundCallId), (entries[3].Outcome, entries[3].Decision, entries[3].CallId));
    }

    private (ApprovalGate Gate, IApprovalStore Store) Gate()
    {
        var store = _db.Services.GetRequiredService<IApprovalStore>();
        var options = new ApprovalOptions { Timeout = TimeSpan.FromMinutes(5), HoldFor = TimeSpan.FromMinutes(5), PollInterval = TimeSpan.FromSeconds(1) };
        return (new ApprovalGate(store, new ApprovalEvents(), _db.Sink, options, _time), store);
    }

    private static async Task<Approval> PendingAsync(IApprovalStore store)
    {
        Approval? pending = null;
        await Eventually.TrueAsync(async () => (pending = (await store.ListAsync(ApprovalStatus.Pending, 10, CancellationToken.None)).FirstOrDefault()) is not null, "the call asked for approval");
        return pending!;
    }

    /// <summary>The host's answer to "may this caller still act" (the gateway's is the agent directory and the revoked users; see CallerStandingTests).</summary>
    private sealed class KeyRevocations : ICallerStanding
    {
        private volatile string? _revoked;

        public void Revoke(string credential) => _revoked = credential;

        public string? RefusalFor(AgentIdentity agent, string? credential) => credential is not null && credential == _revoked ? credential + " was revoked" : null;
    }
}
